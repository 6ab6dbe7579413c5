"""`roster`: migrate, serve, worker, tenant and token administration, schema, and CSV export
and import (queued for a worker, followed live)."""

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from importlib.metadata import version

import asyncpg

from db import events, migrate, tenants, tokens
from db.events import Actor
from db.pool import connect
from roster.auth import new_token, token_hash
from roster.backfill import backfill_skeletons
from roster.cli_public_url import link_origin
from roster.clierrors import Unavailable, check_backends, check_urls, explain_database_error
from roster.console_links import UnknownTenant, create_link
from roster.settings import Settings
from rules import events as vocabulary
from rules import tenants as tenant_rules


def _cli_actor() -> Actor:
    return Actor(token_id=None, name=f"cli:{getpass.getuser()}")


async def _migrate(settings: Settings) -> int:
    if await migrate.create_database_if_missing(settings.database_url):
        print(f"created database {migrate.database_name(settings.database_url)}")
    try:
        applied = await migrate.migrate(settings.database_url)
    except asyncpg.RaiseError as stopped:
        # A migration that stops on purpose (RAISE EXCEPTION) explains itself: the data it
        # cannot migrate, and what to do. Its transaction is rolled back; nothing changed.
        hint = f" {stopped.hint}" if stopped.hint else ""
        message = f"migration stopped, nothing changed: {stopped.message}.{hint}"
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"applied {', '.join(applied)}" if applied else "database is up to date")
    conn = await connect(settings.database_url)
    try:
        left = await backfill_skeletons(conn)
    finally:
        await conn.close()
    for user_id, field in left:
        print(
            f"user {user_id}: its {field} looks like another user's of its tenant (both stored "
            "before look-alikes were refused); rename one of them"
        )
    return 0


async def _tenant_create(
    settings: Settings, slug: str, name: str | None, exist_ok: bool, min_password_length: int | None
) -> int:
    problems = [tenant_rules.slug_problem(slug)]
    if min_password_length is not None:
        problems.append(tenant_rules.min_password_length_problem(min_password_length))
    if _refused(problems):
        return 1
    conn = await connect(settings.database_url)
    try:
        # One transaction: a tenant is created with its settings, or not at all.
        async with conn.transaction():
            tenant = await tenants.create_tenant(conn, slug, name or slug)
            if tenant is not None and min_password_length is not None:
                await tenants.set_min_password_length(conn, slug, min_password_length)
    finally:
        await conn.close()
    if tenant is None:
        if exist_ok:
            print(f"tenant {slug} exists")
            return 0
        print(f"error: tenant {slug!r} exists already", file=sys.stderr)
        return 1
    print(f"created tenant {slug} ({tenant['id']}) with platforms learningcloud, contentcloud")
    return 0


async def _tenant_list(settings: Settings) -> int:
    conn = await connect(settings.database_url)
    try:
        found = await tenants.list_tenants(conn)
    finally:
        await conn.close()
    for t in found:
        print(
            f"{t['slug']:24}  {t['user_count']:>8} users  "
            f"min password {t['min_password_length']:>2}  {t['name']}"
        )
    return 0


async def _tenant_update(settings: Settings, slug: str, min_password_length: int) -> int:
    if _refused([tenant_rules.min_password_length_problem(min_password_length)]):
        return 1
    conn = await connect(settings.database_url)
    try:
        tenant = await tenants.set_min_password_length(conn, slug, min_password_length)
    finally:
        await conn.close()
    if tenant is None:
        print(f"error: no tenant {slug!r}", file=sys.stderr)
        return 1
    print(f"tenant {slug}: minimum password length {min_password_length}")
    return 0


def _refused(problems: Sequence[str | None]) -> bool:
    """Prints each problem found; whether there was any."""
    found = [p for p in problems if p is not None]
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    return bool(found)


async def _token_create(settings: Settings, slug: str, scope: str, name: str) -> int:
    conn = await connect(settings.database_url)
    try:
        tenant = await tenants.get_tenant_by_slug(conn, slug)
        if tenant is None:
            print(f"error: no tenant {slug!r}", file=sys.stderr)
            return 1
        token = new_token()
        async with conn.transaction():
            token_id = await tokens.insert_token(conn, tenant["id"], name, scope, token_hash(token))
            await events.record_events(
                conn,
                tenant["id"],
                _cli_actor(),
                [(token_id, vocabulary.token_created(name, scope))],
            )
    finally:
        await conn.close()
    print(
        f"# token {token_id} ({scope}) for tenant {slug}; it is shown only this once",
        file=sys.stderr,
    )
    print(token)
    return 0


async def _token_revoke(settings: Settings, token_id: str) -> int:
    conn = await connect(settings.database_url)
    try:
        async with conn.transaction():
            revoked = await tokens.revoke_token(conn, token_id)  # type: ignore[arg-type]
    except asyncpg.DataError:
        revoked = False
    finally:
        await conn.close()
    if not revoked:
        print(f"error: no active token {token_id}", file=sys.stderr)
        return 1
    print(f"revoked {token_id}")
    return 0


async def _token_list(settings: Settings, slug: str) -> int:
    conn = await connect(settings.database_url)
    try:
        tenant = await tenants.get_tenant_by_slug(conn, slug)
        if tenant is None:
            print(f"error: no tenant {slug!r}", file=sys.stderr)
            return 1
        for t in await tokens.list_tokens(conn, tenant["id"]):
            if t["revoked_at"]:
                state = f"revoked {t['revoked_at']:%Y-%m-%d}"
            else:
                state = "active" if t["active"] else "expired"
            print(f"{t['id']}  {t['kind']:7}  {t['scope']:5}  {state:18}  {t['name']}")
    finally:
        await conn.close()
    return 0


async def _console_link(settings: Settings, slug: str, scope: str) -> int:
    conn = await connect(settings.database_url)
    try:
        link, expires_at = await create_link(conn, settings.public_url, slug, scope, _cli_actor())
    except UnknownTenant:
        print(f"error: no tenant {slug!r}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(
        f"# console sign-in link ({scope}) for tenant {slug}: opens once, until "
        f"{expires_at:%H:%M:%S %Z}\n# {link_origin(settings)}",
        file=sys.stderr,
    )
    print(link)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roster",
        description=__doc__,
        epilog="Configuration comes from the environment (DATABASE_URL, REDIS_URL, …): "
        "docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"roster {version('roster')}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    serve = commands.add_parser("serve", help="run the API (GraphQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (%(default)s)")
    serve.add_argument("--workers", type=int, default=1, help="API processes (%(default)s)")
    commands.add_parser("worker", help="run a job worker (imports)")
    commands.add_parser("schema", help="print the GraphQL schema (SDL)")

    tenant = commands.add_parser("tenant", help="organisations").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant with its default platforms")
    create.add_argument("slug", help="1 to 63 lower-case letters, digits and '-'")
    create.add_argument("--name", help="display name (the slug when left out)")
    create.add_argument("--exist-ok", action="store_true", help="succeed if it exists")
    create.add_argument(
        "--min-password-length", type=int, help="8 to 64; 15 when left out (NIST SP 800-63B)"
    )
    tenant.add_parser("list", help="list tenants with their number of users")
    update = tenant.add_parser("update", help="change a tenant's settings")
    update.add_argument("slug", help="the tenant to change")
    update.add_argument(
        "--min-password-length", type=int, required=True, help="8 to 64 (15 by default)"
    )

    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="action", required=True
    )
    token_create = token.add_parser("create", help="create a token and print it, once")
    token_create.add_argument("--tenant", required=True, help="the tenant's slug")
    token_create.add_argument(
        "--scope",
        choices=["admin", "read"],
        required=True,
        help="admin: everything; read: queries only",
    )
    token_create.add_argument(
        "--name", default="token", help="what it is for, shown by `token list` (%(default)s)"
    )
    token_revoke = token.add_parser("revoke", help="revoke a token by id")
    token_revoke.add_argument("token_id", help="the id `token list` shows")
    token_list = token.add_parser("list", help="list a tenant's tokens (never the secrets)")
    token_list.add_argument("--tenant", required=True, help="the tenant's slug")
    console_link = commands.add_parser(
        "console-link",
        help="print a link that signs a browser in to the console (once, within 15 minutes)",
    )
    console_link.add_argument("--tenant", required=True, help="the tenant's slug")
    console_link.add_argument(
        "--scope",
        choices=["admin", "read"],
        default="admin",
        help="admin: every action; read: look and export only (%(default)s)",
    )

    needs_worker = "Needs a worker running (`roster worker`): this command queues the job and "
    needs_worker += "follows its progress; it exits non-zero when the job fails."
    export = commands.add_parser(
        "export", help="export a tenant's users as CSV (needs a worker)", description=needs_worker
    )
    export.add_argument("--tenant", required=True, help="the tenant's slug")
    export.add_argument("--search", help="only the users this search box text finds")
    export.add_argument(
        "--columns", help="comma-separated CSV columns (default: all but the passwords)"
    )
    export.add_argument("--out", required=True, help="the CSV file to write")
    import_ = commands.add_parser(
        "import", help="import a CSV file of users (needs a worker)", description=needs_worker
    )
    import_.add_argument("--tenant", required=True, help="the tenant's slug")
    import_.add_argument("file", help="the CSV file to import")
    import_.add_argument("--dry-run", action="store_true", help="validate and plan; change nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as e:  # a variable's value that is not one (a duration, a network)
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        if args.command in ("serve", "worker", "import", "export"):
            # Checked first: uvicorn and arq would fail later, with a traceback each (and arq
            # after five "retries remaining" lines).
            asyncio.run(check_backends(settings))
        elif args.command != "schema":
            check_urls(settings, redis=False)
        return _run(args, settings)
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        explained = explain_database_error(e, settings)
        if explained is None:
            raise
        print(f"error: {explained}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "serve":
        import uvicorn

        proxies = [str(network) for network in settings.trusted_proxies]
        uvicorn.run(
            "roster.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            # uvicorn's default believes X-Forwarded-For from 127.0.0.1 (or FORWARDED_ALLOW_IPS):
            # any local client could then pick its address. Only the proxies Roster trusts.
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies,
        )
        return 0
    if args.command == "worker":
        from jobs.worker import run_worker

        run_worker(
            redis_url=settings.redis_url,
            database_url=settings.database_url,
            hash_workers=settings.hash_workers,
            mail=settings.mail(),
            max_record_size=settings.max_record_size,
            webhooks=settings.webhooks(),
        )
        return 0
    if args.command == "schema":
        from roster.graphql_schema import build_schema

        print(build_schema(settings).as_str())
        return 0
    if args.command in ("export", "import"):
        from roster import cli_jobs

        if args.command == "export":
            columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
            return asyncio.run(
                cli_jobs.export_command(settings, args.tenant, args.search, columns, args.out)
            )
        return asyncio.run(cli_jobs.import_command(settings, args.tenant, args.file, args.dry_run))
    if args.command == "tenant" and args.action == "create":
        return asyncio.run(
            _tenant_create(settings, args.slug, args.name, args.exist_ok, args.min_password_length)
        )
    if args.command == "tenant" and args.action == "list":
        return asyncio.run(_tenant_list(settings))
    if args.command == "tenant" and args.action == "update":
        return asyncio.run(_tenant_update(settings, args.slug, args.min_password_length))
    if args.command == "console-link":
        return asyncio.run(_console_link(settings, args.tenant, args.scope))
    if args.action == "create":
        return asyncio.run(_token_create(settings, args.tenant, args.scope, args.name))
    if args.action == "revoke":
        return asyncio.run(_token_revoke(settings, args.token_id))
    return asyncio.run(_token_list(settings, args.tenant))


if __name__ == "__main__":
    sys.exit(main())

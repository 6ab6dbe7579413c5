"""Numbered .sql files in db/migrations, applied in order, once, under an advisory lock; and the
role the API and the worker act as (db/tenancy.py), made or checked first."""

import logging
from importlib import resources
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from db.tenancy import APP_ROLE

log = logging.getLogger(__name__)

# Any constant works, as long as nothing else in the database uses it for another lock.
MIGRATION_LOCK = 7_406_811_001

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
APPLIED_VERSIONS = "SELECT version FROM schema_migrations"
RECORD_VERSION = "INSERT INTO schema_migrations (version) VALUES ($1)"

# The role is the cluster's, shared by its databases; its rights are each database's (0018).
APP_ROLE_FLAGS = "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1"
CREATE_APP_ROLE = f"CREATE ROLE {APP_ROLE} NOLOGIN"
# Objects of this database the role owns (an owner is above its table's policies unless FORCE).
APP_ROLE_OWNS = """
SELECT EXISTS (
    SELECT FROM pg_shdepend d JOIN pg_database db ON db.oid = d.dbid
    WHERE d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND d.deptype = 'o'
        AND db.datname = current_database()
)
"""
I_AM = """
SELECT r.rolsuper, pg_has_role(current_user, $1, 'MEMBER') AS member
FROM pg_roles r WHERE r.rolname = current_user
"""
GRANT_APP_ROLE = f"GRANT {APP_ROLE} TO CURRENT_USER"

# Functions of the expressions by which users are found in an index (lower(username), a search's
# LIKE on the folded text, the domain of an e-mail, …). PostgreSQL uses an index for a condition
# ahead of a table's row-level security policy only when every function in it is LEAKPROOF
# (it could otherwise raise an error that tells of another organisation's row); without these,
# roster_app's searches and look-ups by username would read their organisation's users in full.
# None of them raises an error that depends on a row. Only a superuser may mark them; the mark
# lives in this database's catalogue, which pg_dump and pg_upgrade do not carry: `roster migrate`
# as a superuser after a restore or an upgrade marks them again.
LEAKPROOF = (
    "pg_catalog.lower(text)",
    "pg_catalog.textlike(text, text)",
    "pg_catalog.split_part(text, text, integer)",
    "pg_catalog.strpos(text, text)",
    "pg_catalog.substr(text, integer)",
    "pg_catalog.textcat(text, text)",
    "pg_catalog.int4pl(integer, integer)",
    "public.unaccent(regdictionary, text)",
    "public.roster_fold(text)",
)
NOT_LEAKPROOF = """
SELECT f::text FROM unnest($1::text[]) AS f
WHERE NOT (SELECT proleakproof FROM pg_proc WHERE oid = f::regprocedure)
"""


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every migration, in the order they apply."""
    folder = resources.files("db") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(dsn: str) -> list[str]:
    """Apply the migrations this database lacks; returns the versions applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        # A session lock, so that two deploys starting at once take turns; the second one
        # then finds everything applied and does nothing.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await ensure_app_role(conn)
            await conn.execute(CREATE_MIGRATIONS_TABLE)
            applied = {r["version"] for r in await conn.fetch(APPLIED_VERSIONS)}
            done = []
            for version, sql in migration_files():
                if version in applied:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(RECORD_VERSION, version)
                done.append(version)
            await mark_leakproof(conn)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    finally:
        await conn.close()


async def ensure_app_role(conn: asyncpg.Connection) -> None:
    """Makes the role the API and the worker act as, or checks the one there: it must not be
    able to bypass row-level security nor own anything here; and this connection's role may
    act as it (a superuser may anyway)."""
    flags = await conn.fetchrow(APP_ROLE_FLAGS, APP_ROLE)
    if flags is None:
        try:
            await conn.execute(CREATE_APP_ROLE)
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            pass  # another database's migrate made it meanwhile
        except asyncpg.InsufficientPrivilegeError as e:
            raise RuntimeError(
                f"The role {APP_ROLE} does not exist and this role may not create it: have a "
                f"superuser run `CREATE ROLE {APP_ROLE} NOLOGIN; GRANT {APP_ROLE} TO "
                "<the role of DATABASE_URL>;`, then run roster migrate again."
            ) from e
    elif flags["rolsuper"] or flags["rolbypassrls"]:
        raise RuntimeError(
            f"The role {APP_ROLE} can bypass row-level security (SUPERUSER or BYPASSRLS): "
            f"ALTER ROLE {APP_ROLE} NOSUPERUSER NOBYPASSRLS, then run roster migrate again."
        )
    if await conn.fetchval(APP_ROLE_OWNS, APP_ROLE):
        raise RuntimeError(
            f"The role {APP_ROLE} owns objects of this database, which its policies would not "
            "hold it to: give them to the role that runs roster migrate (REASSIGN OWNED BY "
            f"{APP_ROLE} TO …), then run roster migrate again."
        )
    me = await conn.fetchrow(I_AM, APP_ROLE)
    assert me is not None  # current_user is a role
    if not me["rolsuper"] and not me["member"]:
        await conn.execute(GRANT_APP_ROLE)


async def mark_leakproof(conn: asyncpg.Connection) -> None:
    """Marks LEAKPROOF's functions, as a superuser; else warns of those left unmarked."""
    missing = [r["f"] for r in await conn.fetch(NOT_LEAKPROOF, list(LEAKPROOF))]
    if not missing:
        return
    if not await conn.fetchval(I_AM, APP_ROLE):
        log.warning(
            "Searches and look-ups by username or e-mail will read each organisation's users in "
            "full: row-level security uses an index for them only if a superuser runs %s",
            "; ".join(f"ALTER FUNCTION {f} LEAKPROOF" for f in missing),
        )
        return
    for function in missing:
        await conn.execute(f"ALTER FUNCTION {function} LEAKPROOF")


def _quote_ident(name: str) -> str:
    # Identifiers cannot be query parameters: quote them the way PostgreSQL does.
    return '"' + name.replace('"', '""') + '"'


def _with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + quote(database)))


async def create_database(dsn: str, *, template: str | None = None) -> None:
    """Creates the database the DSN names (from `template` when given)."""
    admin = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        sql = f"CREATE DATABASE {_quote_ident(database_name(dsn))}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        await admin.execute(sql)
    finally:
        await admin.close()


async def drop_database(dsn: str) -> None:
    admin = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        await admin.execute(
            f"DROP DATABASE IF EXISTS {_quote_ident(database_name(dsn))} WITH (FORCE)"
        )
    finally:
        await admin.close()


async def create_database_if_missing(dsn: str) -> bool:
    """Creates the database the DSN names when it does not exist yet; True if it did."""
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return False
    try:
        await create_database(dsn)
    except asyncpg.DuplicateDatabaseError:
        return False
    except asyncpg.UniqueViolationError as error:
        # Two processes creating it at the same moment: the loser trips over the catalog's
        # unique index instead of getting DuplicateDatabaseError.
        if error.constraint_name != "pg_database_datname_index":
            raise
        return False
    return True


def database_name(dsn: str) -> str:
    """The database a postgresql:// URL names."""
    return unquote(urlsplit(dsn).path.lstrip("/")) or "postgres"

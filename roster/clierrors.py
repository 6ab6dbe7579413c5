"""What stops a `roster` command before it can do its work (PostgreSQL or Redis unreachable, a
database that does not exist or is not migrated, a URL of the wrong kind), said in one line an
operator can act on instead of a traceback."""

import socket
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from db.pool import connect
from db.tenants import check_tenants_table
from roster.settings import Settings

DATABASE_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss", "unix")


class Unavailable(Exception):
    """A backend the command needs cannot be used; the message is the whole explanation."""


def _where(url: str, default_port: int) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or default_port}"


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__


def check_urls(settings: Settings, *, redis: bool) -> None:
    """Raises Unavailable for a DATABASE_URL (and REDIS_URL) that is not of the right kind."""
    scheme = urlsplit(settings.database_url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise Unavailable(f"DATABASE_URL must be a postgresql:// URL, not {scheme or 'no'}://")
    scheme = urlsplit(settings.redis_url).scheme
    if redis and scheme not in REDIS_SCHEMES:
        raise Unavailable(f"REDIS_URL must be a redis:// URL, not {scheme or 'no'}://")


def explain_database_error(error: BaseException, settings: Settings) -> str | None:
    """One line for an error reaching PostgreSQL, or None for any other error."""
    where = f"PostgreSQL at {_where(settings.database_url, 5432)} (DATABASE_URL)"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        name = urlsplit(settings.database_url).path.lstrip("/")
        return f"{where} has no database {name!r}: `roster migrate` creates it"
    if isinstance(error, asyncpg.UndefinedTableError):
        return f"the database of {where} is not migrated: run `roster migrate`"
    if isinstance(
        error, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return f"{where} refused the login: {error}"
    if isinstance(error, asyncpg.ClientConfigurationError):
        return f"DATABASE_URL is not a valid PostgreSQL URL: {error}"
    if isinstance(error, OSError | asyncpg.CannotConnectNowError):
        return f"cannot reach {where}: {_reason(error)}"
    return None


async def check_backends(settings: Settings) -> None:
    """Raises Unavailable unless PostgreSQL (with Roster's tables) and Redis both answer: for
    the long-running commands, which would otherwise fail later with a traceback."""
    check_urls(settings, redis=True)
    try:
        conn = await connect(settings.database_url)
        try:
            await check_tenants_table(conn)
        finally:
            await conn.close()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise Unavailable(explain_database_error(e, settings) or str(e)) from e
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        await client.ping()
    except (OSError, RedisError) as e:
        where = _where(settings.redis_url, 6379)
        raise Unavailable(f"cannot reach Redis at {where} (REDIS_URL): {_reason(e)}") from e
    finally:
        await client.aclose()

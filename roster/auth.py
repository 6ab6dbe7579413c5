"""Tokens: made once, stored as a SHA-256 hash, looked up on every request. An API client sends
its token as `Authorization: Bearer …`; the console's browser sends its session's token as a
cookie (roster.console), taken only from the console's own origin."""

import hashlib
import secrets

from asyncpg import Pool
from starlette.requests import HTTPConnection

from db import console, tokens
from db.tenancy import act_for, acting_for
from roster.tokencache import TokenCache
from schema.context import Principal

TOKEN_PREFIX = "rst_"
# HttpOnly and SameSite=Strict (roster.console): the page's scripts never see it, and a browser
# sends it on no request another site starts.
SESSION_COOKIE = "roster_console"
# Methods that change nothing, so that a request another site makes with them harms nobody: a
# cookie is taken on any other only with the console's own Origin (and so on every WebSocket).
SAFE_METHODS = frozenset(("GET", "HEAD"))


class CrossOrigin(Exception):
    """A console cookie on a request that another site's page may have made."""

    code = "CROSS_ORIGIN"

    def __init__(self) -> None:
        super().__init__(
            "A console session is accepted only from the console's own pages "
            "(this request's Origin is another site's, or missing)."
        )


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def own_origins(connection: HTTPConnection, public_url: str) -> set[str]:
    """The origins of the console's pages: PUBLIC_URL's, and the one this request was sent to
    (a browser sends the cookie only to the host that set it, so another site cannot make its
    Origin match the Host of a request that carries the cookie)."""
    public = public_url.rstrip("/").split("/", 3)
    origins = {"/".join(public[:3])}
    host = connection.headers.get("host")
    if host:
        scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
        origins.add(f"{scheme}://{host}")
    return origins


def credentials(connection: HTTPConnection, public_url: str) -> str | None:
    """The `Authorization` value of a request or WebSocket: its header, else the console's
    session cookie as a bearer token. Raises CrossOrigin for a cookie on a request that changes
    something (any method but GET and HEAD, every WebSocket) from another origin."""
    authorization = connection.headers.get("authorization")
    if authorization:
        return authorization
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    method = connection.scope.get("method")  # none on a WebSocket
    if method not in SAFE_METHODS and connection.headers.get("origin") not in own_origins(
        connection, public_url
    ):
        raise CrossOrigin()
    return f"Bearer {token}"


async def caller(connection: HTTPConnection) -> Principal | None:
    """Who sent this request (its token or console session), or None; the app's state has
    the pool and the token cache."""
    state = connection.state
    authorization = credentials(connection, state.settings.public_url)
    return await authenticate(state.pool, authorization, state.tokens)


async def authenticate(
    pool: Pool, authorization: str | None, cache: TokenCache | None = None
) -> Principal | None:
    """The caller that an `Authorization: Bearer …` value identifies, or None. With the API
    process's `cache`, a token it holds needs no query. Once the caller is known, the task (a
    request's, a WebSocket's) and the tasks it starts work for the caller's organisation: row-level
    security holds every transaction they open to it (db/tenancy.py)."""
    token = bearer_token(authorization)
    if token is None:
        return None
    digest = token_hash(token)
    if cache is not None:
        principal = cache.get(digest)
        if principal is not None:
            act_for(principal.tenant_id)
            return principal
    ticket = cache.ticket() if cache is not None else None
    async with pool.acquire() as conn:
        # Any organisation's token (0018's roster_find_token): it names the organisation.
        row = await tokens.find_active_token(conn, digest)
        if row is None:
            return None
        if row["kind"] == "console":
            # A session ends 12 hours after its last use: this is a use.
            with acting_for(row["tenant_id"]):
                await console.touch_session(conn, row["tenant_id"], row["id"])
    principal = Principal(
        tenant_id=row["tenant_id"],
        token_id=row["id"],
        token_name=row["name"],
        scope=row["scope"],
        console=row["kind"] == "console",
    )
    if cache is not None:
        cache.put(digest, principal, ticket)
    act_for(principal.tenant_id)
    return principal

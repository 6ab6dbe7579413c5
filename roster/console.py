"""The console at /console: its page, its files, and its session (sign in from a link, who is
signed in, sign out). Everything else the console does goes through /graphql and the download
routes, as any client's requests, with the session's cookie in place of a bearer token."""

import json
from functools import cache
from html import escape
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from db import console, tokens
from db.events import Actor, record_events
from db.pool import Conn
from db.tenancy import act_for
from roster.auth import SESSION_COOKIE, caller, own_origins
from roster.console_assets import CONSOLE_ASSETS, versioned
from roster.console_links import SESSION_TTL, SIGN_IN_PATH, open_session
from roster.httperrors import error_response
from rules import events as vocabulary
from schema.context import Principal

# Scripts and styles from this server's files only: no inline script or style, no eval, so
# that text the API returns can never run in the console.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Bounds the sign-in's body (LimitedBody, around the route in roster/app.py).
MAX_SIGN_IN_BYTES = 1024
LINK_REFUSALS = {
    "LINK_USED": (410, "This sign-in link was already used: each link signs in once."),
    "LINK_EXPIRED": (410, "This sign-in link has expired: a link works for 15 minutes."),
    "LINK_UNKNOWN": (404, "This is not a sign-in link of this server."),
}
SIGNED_OUT = "Not signed in to the console: open a new sign-in link (roster console-link)."


# What precedes the JSON value in users-query.js.
EXPORT = "export default "
# Where the page has its preloads written in.
PRELOADS = "<!-- preloads -->"
# The addresses that show the plain users list, once their trailing slash is cut.
PLAIN_LIST = frozenset(("/console", "/console/users"))
SESSION_PRELOAD = '<link rel="preload" as="fetch" crossorigin href="/console/session" />'


def users_query() -> dict[str, Any]:
    """The users list's query (as lines) and its first page's variables: users-query.js, a
    module whose default export is written as JSON, so that both the list and this read it."""
    module = (CONSOLE_ASSETS / "users-query.js").read_text(encoding="utf-8")
    value: dict[str, Any] = json.loads(module.split(EXPORT, 1)[1].rstrip().removesuffix(";"))
    return value


@cache
def _first_page_preload() -> str:
    """The preload of the plain list's first page, a GET of /graphql: the query and variables
    the list itself would send, so that what the page preloads is what the list takes."""
    spec = users_query()
    variables = json.dumps(spec["firstPage"], separators=(",", ":"))
    address = "/graphql?" + urlencode({"query": "\n".join(spec["query"]), "variables": variables})
    return f'<link rel="preload" as="fetch" crossorigin id="first-page" href="{escape(address)}" />'


def _preloads(path: str, query: str) -> tuple[str, ...]:
    """What the page at `path` asks for while it is read, before any of its modules has run:
    the session (but on the sign-in page, which has none yet) and, on the plain list, its first
    page. boot.js takes both answers."""
    path = path.rstrip("/")
    if path == SIGN_IN_PATH:
        return ()
    if path in PLAIN_LIST and not query:
        return (SESSION_PRELOAD, _first_page_preload())
    return (SESSION_PRELOAD,)


@cache
def _page(preloads: tuple[str, ...]) -> str:
    page = versioned((CONSOLE_ASSETS / "index.html").read_text(encoding="utf-8"))
    return page.replace(PRELOADS, "\n    ".join(preloads))


async def console_page(request: Request) -> Response:
    """GET /console and every path under it but its files: the one page of the console, which
    reads its route from the address."""
    return HTMLResponse(
        _page(_preloads(request.url.path, request.url.query)),
        headers={"content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-cache"},
    )


async def post_session(request: Request) -> Response:
    """Trades a sign-in link's secret for a session cookie."""
    # A sign-in another site's page starts would sign the browser in to the attacker's
    # organisation (login CSRF): only the console's own page may post the secret.
    if request.headers.get("origin") not in own_origins(request, _public_url(request)):
        return error_response(403, "Sign in from the console's own page.", "CROSS_ORIGIN")
    secret = _link_secret(await request.body())
    if secret is None:
        return error_response(400, 'Send {"link": "<the secret of a sign-in link>"}.')
    async with request.state.pool.acquire() as conn:
        session = await open_session(conn, secret)
        if isinstance(session, str):
            status, message = LINK_REFUSALS[session]
            return error_response(status, message, session)
        act_for(session.tenant_id)
        described = await _described(conn, session.tenant_id, session.token_id)
    response = JSONResponse(described, status_code=201)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=SESSION_TTL,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_public_url(request).startswith("https:") or request.url.scheme == "https",
    )
    return response


async def get_session(request: Request) -> Response:
    principal = await caller(request)
    if principal is None or not principal.console or principal.token_id is None:
        return error_response(401, SIGNED_OUT)
    async with request.state.pool.acquire() as conn:
        return JSONResponse(await _described(conn, principal.tenant_id, principal.token_id))


async def delete_session(request: Request) -> Response:
    """Sign out: the session is revoked, so that its cookie, wherever a copy of it is, opens
    nothing more (and every open socket of it closes)."""
    principal = await caller(request)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    if principal is not None and principal.console:
        await _revoke(request, principal)
    return response


async def _revoke(request: Request, principal: Principal) -> None:
    assert principal.token_id is not None
    async with request.state.pool.acquire() as conn, conn.transaction():
        if await tokens.revoke_token(conn, principal.token_id):
            await record_events(
                conn,
                principal.tenant_id,
                Actor(token_id=principal.token_id, name="console"),
                [(principal.token_id, vocabulary.console_signed_out())],
            )
    # Committed: this process forgets the session now rather than when PostgreSQL's notice
    # comes back (a few milliseconds on a loaded machine, during which a copy of the cookie
    # sent here would still have passed). Other processes forget it on the notice.
    request.state.tokens.changed(principal.token_id)


async def _described(conn: Conn, tenant_id: UUID, token_id: UUID) -> dict[str, object]:
    row = await console.get_session(conn, tenant_id, token_id)
    assert row is not None  # the caller's own session, found active a moment ago
    return {
        "tenant": {"slug": row["slug"], "name": row["name"]},
        "scope": row["scope"],
        "expiresAt": row["expires_at"].isoformat(),
    }


def _link_secret(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    secret = data.get("link") if isinstance(data, dict) else None
    return secret if isinstance(secret, str) and 0 < len(secret) <= 100 else None


def _public_url(request: Request) -> str:
    public_url: str = request.state.settings.public_url
    return public_url

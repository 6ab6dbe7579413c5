"""GET and POST /set-password: the page a welcome e-mail links to.

The token in the link (and in the form, as a hidden field) is the only credential: the page
sets no cookie and trusts no session, so a cross-site form post without the token can do
nothing (that is its protection against CSRF). The token must not leak: no Referer leaves the
page, nothing is cached, the page loads nothing from elsewhere, and no other site may frame it.
Attempts are limited per link and per client address with Redis counters."""

from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from resolvers import set_password as links
from roster.set_password_page import done_page, form_page, message, refused_page
from rules.welcome import LANGUAGES, language_of, token_hash

# A form with two 256-character passwords, percent-encoded, and the token fits well inside.
MAX_BODY_BYTES = 16 * 1024
# Per link: enough for a person who mistypes, not for guessing.
LINK_ATTEMPTS, LINK_WINDOW_SECONDS = 10, 3600
# Per client address (links to many users from one address are someone probing).
ADDRESS_ATTEMPTS, ADDRESS_WINDOW_SECONDS = 30, 900

STATUS = {
    links.UNKNOWN: 404,
    links.EXPIRED: 410,
    links.USED: 410,
    links.DISABLED: 403,
    "RATE_LIMITED": 429,
}


def _headers(public_url: str) -> dict[str, str]:
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; "
            f"form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }


def _page(request: Request, body: str, status: int = 200) -> HTMLResponse:
    public_url: str = request.state.settings.public_url
    return HTMLResponse(body, status_code=status, headers=_headers(public_url))


def _language(request: Request, link: links.Link) -> str:
    """The user's language; for a link that names nobody, the browser's first supported one."""
    if link.language is not None:
        return link.language
    for part in request.headers.get("accept-language", "").split(","):
        primary = part.split(";")[0].strip().split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return language_of(None)


def _form(request: Request, link: links.Link, token: str, error: str | None = None) -> str:
    action = f"{request.state.settings.public_url.rstrip('/')}/set-password"
    return form_page(
        _language(request, link),
        action=action,
        token=token,
        username=link.username,
        min_length=link.min_length,
        error=error,
    )


async def get_set_password(request: Request) -> HTMLResponse:
    token = request.query_params.get("token", "")
    link = await links.find_link(request.state.pool, token)
    if link.state != links.VALID:
        return _page(
            request, refused_page(_language(request, link), link.state), STATUS[link.state]
        )
    return _page(request, _form(request, link, token))


async def post_set_password(request: Request) -> HTMLResponse:
    body = await _read_body(request)
    if body is None:
        return HTMLResponse("Request too large.", status_code=413)
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    token, password, confirmation = (form.get(k, [""])[0] for k in ("token", "password", "confirm"))
    pool = request.state.pool
    link = await links.find_link(pool, token)
    language = _language(request, link)
    if await _limited(request, token):
        await links.record_failure(pool, link, "RATE_LIMITED")
        return _page(request, refused_page(language, "RATE_LIMITED"), STATUS["RATE_LIMITED"])
    outcome = await links.set_password_by_link(
        pool, request.state.executor, token, password, confirmation
    )
    if outcome.ok:
        return _page(request, done_page(language))
    assert outcome.code is not None
    if outcome.code in STATUS:
        return _page(request, refused_page(language, outcome.code), STATUS[outcome.code])
    error = message(language, outcome.code, fallback=outcome.message, min_length=link.min_length)
    return _page(request, _form(request, link, token, error), 422)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None once it is larger than a form can be (read no further)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def _limited(request: Request, token: str) -> bool:
    """Counts this attempt against its link and its client address; whether either is over
    its limit. The link is counted by its hash: Redis never holds a usable token."""
    address = request.client.host if request.client else "unknown"
    redis = request.state.redis
    counters = (
        (f"roster:setpw:link:{token_hash(token).hex()}", LINK_ATTEMPTS, LINK_WINDOW_SECONDS),
        (f"roster:setpw:addr:{address}", ADDRESS_ATTEMPTS, ADDRESS_WINDOW_SECONDS),
    )
    over = False
    for key, limit, window in counters:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            count, _ = await pipe.execute()
        over = over or count > limit
    return over

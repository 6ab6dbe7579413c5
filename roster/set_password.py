"""GET and POST /set-password: the page a welcome e-mail links to.

The token in the link (and in the form, as a hidden field) is the only credential: the page
sets no cookie and trusts no session, so a cross-site form post without the token can do
nothing (that is its protection against CSRF). The token must not leak: no Referer leaves the
page, nothing is cached, the page loads nothing from elsewhere, and no other site may frame it.
Attempts are limited per link and per client address with Redis counters; so are looks at
links that do not exist, which would otherwise tell a valid link from an invalid one for as
many guesses as one likes. The client address is the peer's, or the one a trusted proxy
forwards (rules/proxies.py)."""

from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from db.tenancy import act_for
from resolvers import set_password as links
from roster.set_password_page import FORM_INVALID, done_page, form_page, message, refused_page
from rules.proxies import client_address
from rules.welcome import LANGUAGES, language_of, token_hash

# A form with two 256-character passwords, percent-encoded, and the token fits well inside.
MAX_BODY_BYTES = 16 * 1024
# The form has four fields (token, username, password, confirm).
MAX_FORM_FIELDS = 16
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
    FORM_INVALID: 400,
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
    address_key = _address_key(request)
    # Past the budget every link gets the same answer, in the browser's language: nothing
    # tells a valid one from an invalid one.
    if await _spent(request, address_key):
        return _refused(request, links.Link(links.UNKNOWN), "RATE_LIMITED")
    link = await links.find_link(request.state.pool, token)
    if link.state == links.UNKNOWN and await _count(
        request, address_key, ADDRESS_ATTEMPTS, ADDRESS_WINDOW_SECONDS
    ):
        return _refused(request, link, "RATE_LIMITED")
    if link.state != links.VALID:
        return _refused(request, link, link.state)
    return _page(request, _form(request, link, token))


async def post_set_password(request: Request) -> HTMLResponse:
    # No larger than MAX_BODY_BYTES: LimitedBody refuses a larger one around this route (413).
    form = _parse_form(await request.body())
    if form is None:
        return _refused(request, links.Link(links.UNKNOWN), FORM_INVALID)
    token, password, confirmation = (form.get(k, [""])[0] for k in ("token", "password", "confirm"))
    pool = request.state.pool
    link = await links.find_link(pool, token)
    if link.tenant_id is not None:
        # The link names its organisation, which the rest of the request works for.
        act_for(link.tenant_id)
    language = _language(request, link)
    if await _limited(request, token):
        await links.record_failure(pool, link, "RATE_LIMITED")
        return _refused(request, link, "RATE_LIMITED")
    outcome = await links.set_password_by_link(
        pool, request.state.executor, token, password, confirmation
    )
    if outcome.ok:
        return _page(request, done_page(language))
    assert outcome.code is not None
    if outcome.code in STATUS:
        return _refused(request, link, outcome.code)
    error = message(language, outcome.code, fallback=outcome.message, min_length=link.min_length)
    return _page(request, _form(request, link, token, error), 422)


def _refused(request: Request, link: links.Link, code: str) -> HTMLResponse:
    return _page(request, refused_page(_language(request, link), code), STATUS[code])


def _parse_form(body: bytes) -> dict[str, list[str]] | None:
    """The urlencoded form's fields, or None when it is not valid UTF-8, raw or
    percent-encoded: decoding with replacement would turn two different passwords into one
    (and store neither)."""
    try:
        return parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError is one; so are too many fields
        return None


async def _limited(request: Request, token: str) -> bool:
    """Counts this attempt against its link and its client address; whether either is over
    its limit. The link is counted by its hash: Redis never holds a usable token."""
    counters = (
        (f"roster:setpw:link:{token_hash(token).hex()}", LINK_ATTEMPTS, LINK_WINDOW_SECONDS),
        (_address_key(request), ADDRESS_ATTEMPTS, ADDRESS_WINDOW_SECONDS),
    )
    over = False
    for key, limit, window in counters:
        over = await _count(request, key, limit, window) or over
    return over


def _address_key(request: Request) -> str:
    peer = request.client.host if request.client else None
    trusted = request.state.settings.trusted_proxies
    address = client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)
    return f"roster:setpw:addr:{address or 'unknown'}"


async def _count(request: Request, key: str, limit: int, window: int) -> bool:
    """Counts one attempt under `key`; whether it is over `limit` in its window."""
    async with request.state.redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = await pipe.execute()
    return bool(count > limit)


async def _spent(request: Request, address_key: str) -> bool:
    """Whether the address has used its whole budget already (without counting a look)."""
    count = await request.state.redis.get(address_key)
    return count is not None and int(count) >= ADDRESS_ATTEMPTS

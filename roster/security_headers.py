"""The security headers every HTTP answer carries, whatever answered: a GraphQL result, an
error, a download, GraphiQL's page or its scripts.

A header the answer sets itself is left as it is (the set-password page has a policy of its
own). The content security policy that loads nothing goes on every answer but HTML pages, which
set theirs: no answer of data is ever run as a page, even one a browser is led to open. An
answer of data (JSON: a GraphQL result, an error, the console's session) is one person's, and
may be a GET (the console preloads its first list that way): no browser or proxy keeps it."""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
CONTENT_SECURITY_POLICY = (
    b"content-security-policy",
    b"default-src 'none'; frame-ancestors 'none'",
)
NOT_STORED = (b"cache-control", b"no-store")
# JSON, and GraphQL's streamed answers (a subscription over SSE, incremental delivery).
DATA_TYPES = (
    b"application/json",
    b"application/graphql-response+json",
    b"text/event-stream",
    b"multipart/mixed",
)


def security_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The security headers an answer with these headers (names in lower case, as ASGI has
    them) lacks."""
    present: set[bytes] = set()
    html = data = False
    for name, value in headers:
        present.add(name)
        if name == b"content-type":
            html = value.startswith(b"text/html")
            data = value.startswith(DATA_TYPES)
    missing = [header for header in SECURITY_HEADERS if header[0] not in present]
    if not html and CONTENT_SECURITY_POLICY[0] not in present:
        missing.append(CONTENT_SECURITY_POLICY)
    if data and NOT_STORED[0] not in present:
        missing.append(NOT_STORED)
    return missing


class SecurityHeaders:
    """ASGI middleware: every HTTP answer with the security headers it lacks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _WithSecurityHeaders(send))


class _WithSecurityHeaders:
    """A send that adds the security headers to the start of an answer."""

    __slots__ = ("send",)

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            message["headers"] = headers + security_headers(headers)
        await self.send(message)

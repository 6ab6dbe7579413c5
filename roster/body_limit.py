"""Request bodies bounded before they are read.

The view checks the caller's token and scope before it reads a body, so a request refused
anyway reads nothing. The limit applies from the body's first read: a declared Content-Length
above it is refused without reading a byte, and the bytes are counted as they arrive, which a
chunked or understated body cannot slip past. Every refusal is answered in the shape of every
other HTTP error (roster/httperrors.py): by the GraphQL view for its own, by LimitedBody for any
other endpoint's."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roster.httperrors import error_response


class Refused(Exception):
    """A request refused before its body is read, answered with a GraphQL error."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class BodyTooLarge(Refused):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "BODY_TOO_LARGE", f"The request body is larger than {limit:,} bytes.")


def declared_length(value: str | None) -> int | None:
    """The Content-Length header's value, None when absent or unreadable."""
    return int(value) if value is not None and value.isdigit() else None


class LimitedReceive:
    """An ASGI receive that raises BodyTooLarge rather than hand over more than `limit` bytes
    of request body."""

    def __init__(self, receive: Receive, limit: int, declared: int | None) -> None:
        self.receive = receive
        self.limit = limit
        self.declared = declared
        self.read = 0

    async def __call__(self) -> Message:
        if self.declared is not None and self.declared > self.limit:
            raise BodyTooLarge(self.limit)
        message = await self.receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                raise BodyTooLarge(self.limit)
        return message


class LimitedBody:
    """An endpoint (an ASGI app) whose request body is bounded at `limit` bytes, as the
    GraphQL view bounds its own: past it, the endpoint's read raises BodyTooLarge, answered
    413 in JSON before the endpoint has answered anything."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = declared_length(_content_length(scope))
        try:
            await self.app(scope, LimitedReceive(receive, self.limit, declared), send)
        except Refused as e:
            await error_response(e.status_code, str(e), e.code)(scope, receive, send)


def _content_length(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text: str = value.decode("latin-1")
            return text
    return None

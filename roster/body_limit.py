"""Request bodies bounded before they are read.

The view checks the caller's token and scope before it reads a body, so a request refused
anyway reads nothing. The limit applies from the body's first read: a declared Content-Length
above it is refused without reading a byte, and the bytes are counted as they arrive, which a
chunked or understated body cannot slip past."""

from starlette.types import Message, Receive


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

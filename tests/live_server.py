"""The app served by uvicorn on a free localhost port, for tests that need a real HTTP server:
a browser's, a WebSocket's, a second process's."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp


def bind() -> tuple[socket.socket, str]:
    """A socket bound to a free localhost port, and the base URL it will serve: for an app
    that must know its own address (PUBLIC_URL) before it starts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, bound: tuple[socket.socket, str] | None = None) -> AsyncIterator[str]:
    """The app running (its lifespan started) until the block ends; yields its base URL."""
    sock, url = bound or bind()
    # log_config=None: uvicorn leaves the logging of the rest of the run as it found it (its
    # own config stops its access log propagating, which tests reading it with caplog need).
    config = uvicorn.Config(app, log_level="warning", lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), task.result()
        await asyncio.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        await task
        sock.close()

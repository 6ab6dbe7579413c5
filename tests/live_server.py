"""The app served by uvicorn on a free localhost port, for tests that need a real HTTP server:
a browser's, a WebSocket's, a second process's."""

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp


def bind() -> tuple[socket.socket, str]:
    """A socket bound to a free localhost port, and the base URL it will serve: for an app
    that must know its own address (PUBLIC_URL) before it starts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def uvicorn_loggers_kept() -> Iterator[None]:
    """uvicorn's Config sets its loggers up (their levels, the access log's propagation off):
    they are put back after, for the tests that read the access log through caplog."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    try:
        yield
    finally:
        for lg, handlers, level, propagate, disabled in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, bound: tuple[socket.socket, str] | None = None) -> AsyncIterator[str]:
    """The app running (its lifespan started) until the block ends; yields its base URL."""
    sock, url = bound or bind()
    with uvicorn_loggers_kept():
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
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

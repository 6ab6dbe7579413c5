"""A real HTTP receiver on localhost for webhook tests: an asyncio server that records every
request and answers what the test tells it to (a status, after a delay, or never)."""

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the receiver answered, once it has

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


Answer = Callable[[Received], Awaitable[int]]


async def ok(request: Received) -> int:
    return 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.requests: list[Received] = []
        self.answer: Answer = ok
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.StreamWriter] = set()
        self.arrived = asyncio.Event()

    async def start(self) -> "Receiver":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in self.connections:
                writer.close()
            await self.server.wait_closed()
            self.server = None

    def events(self) -> list[dict[str, Any]]:
        """Every event accepted (answered 2xx), in arrival order, batches unrolled."""
        out: list[dict[str, Any]] = []
        for r in self.requests:
            if r.status is None or not 200 <= r.status < 300:
                continue
            body = r.json
            out += body if isinstance(body, list) else [body]
        return out

    async def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The events received, once there are at least `count` of them."""
        async with asyncio.timeout(timeout):
            while len(self.events()) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = Received(headers, body)
                self.requests.append(received)
                self.arrived.set()
                received.status = status = await self.answer(received)
                self.arrived.set()
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        self.connections.discard(writer)
        writer.close()

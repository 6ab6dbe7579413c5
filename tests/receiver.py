"""A real HTTP receiver on localhost for webhook tests: an asyncio server that records every
request and answers what the test tells it to (a status, after a delay, or never; with a body,
dripped or huge)."""

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
    sent: int = 0  # bytes of the answer's body written so far
    cut: bool = False  # the client closed the connection before the body's end

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass(frozen=True)
class Reply:
    """A status with a body of `size` bytes, written `chunk` bytes at a time, `pause` seconds
    apart."""

    status: int = 200
    size: int = 0
    chunk: int = 1 << 20
    pause: float = 0.0


Answer = Callable[[Received], Awaitable[int | Reply]]


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
                answer = await self.answer(received)
                reply = answer if isinstance(answer, Reply) else Reply(answer)
                received.status = reply.status
                self.arrived.set()
                head = f"HTTP/1.1 {reply.status} X\r\ncontent-length: {reply.size}\r\n\r\n"
                writer.write(head.encode())
                await writer.drain()
                await _write_body(writer, reply, received)
        self.connections.discard(writer)
        writer.close()


async def _write_body(writer: asyncio.StreamWriter, reply: Reply, received: Received) -> None:
    chunk = b"x" * min(reply.chunk, reply.size)
    try:
        while received.sent < reply.size:
            part = chunk[: reply.size - received.sent]
            writer.write(part)
            await writer.drain()
            received.sent += len(part)
            if reply.pause:
                await asyncio.sleep(reply.pause)
    except ConnectionError:
        received.cut = True
        raise

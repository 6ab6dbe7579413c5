"""The subscribers of bench/subscribers.py, in a process of their own: N graphql-transport-ws
connections to 127.0.0.1, each subscribed to one job, noting when each message arrives.

A WebSocket client of the least work per message, so that the measurement takes as little of
the machine from the server it measures as it can: each connection is an asyncio Protocol that
notes the time bytes arrive (time.time(), the clock the run compares with the publish), splits
them into frames, answers pings (uvicorn closes a connection that does not) and keeps each
message's bytes; JSON is read only after the run. A library client (websockets) took about as
much CPU per message as the server, which shares these two cores.

    python bench/subscriber_client.py HOST PORT TOKEN JOB_ID COUNT SECONDS OUT

prints "ready" once every subscription has the job's first state, then writes to OUT, as JSON,
each subscription's (receipt, status, processed) after the job has ended for all of them or
SECONDS have passed."""

import asyncio
import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

import orjson
import uvloop

SUBSCRIPTION = (
    "subscription($id: ID!) { job(id: $id) { status processed total startedAt"
    " ... on ImportJob { created failed } } }"
)
# How many connections are opened at once.
OPENING = 50
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class Subscriber(asyncio.Protocol):
    """One connection: handshake, connection_init, subscribe, then every message kept."""

    def __init__(self, host: str, token: str, job_id: str, n: int) -> None:
        self.host = host
        self.token = token
        self.job_id = job_id
        self.n = n
        self.buffer = bytearray()
        self.stage = "handshake"
        self.messages: list[tuple[float, bytes]] = []
        self.subscribed = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is no subclass
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET /graphql HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if self.stage == "handshake":
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self._fail(f"handshake refused: {bytes(self.buffer[:end])!r}")
                return
            del self.buffer[: end + 4]
            self.stage = "init"
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}
            self._send(TEXT, json.dumps(init).encode())
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == PING:
                self._send(PONG, payload)
            elif opcode == CLOSE:
                self._fail("closed by the server")
            elif opcode == TEXT:
                self._message(now, payload)

    def _message(self, now: float, payload: bytes) -> None:
        if self.stage == "init":
            if b'"connection_ack"' not in payload:
                self._fail(f"no acknowledgement: {payload!r}")
                return
            self.stage = "subscribed"
            variables = {"id": self.job_id}
            subscribe = {"query": SUBSCRIPTION, "variables": variables}
            message = {"id": str(self.n), "type": "subscribe", "payload": subscribe}
            self._send(TEXT, json.dumps(message).encode())
            return
        if b'"type":"complete"' in payload:
            self._send(CLOSE, b"\x03\xe8")
            if not self.done.done():
                self.done.set_result(None)
            return
        self.messages.append((now, payload))
        if not self.subscribed.done():
            self.subscribed.set_result(None)

    def _send(self, opcode: int, payload: bytes) -> None:
        """A client's frame: masked, as RFC 6455 requires."""
        assert self.transport is not None
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = bytes([0x80 | opcode, 0x80 | size])
        else:
            header = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
        masked = bytes(byte ^ mask[i & 3] for i, byte in enumerate(payload))
        self.transport.write(header + mask + masked)

    def _fail(self, reason: str) -> None:
        for future in (self.subscribed, self.done):
            if not future.done():
                future.set_exception(RuntimeError(f"subscriber {self.n}: {reason}"))
        if self.transport is not None:
            self.transport.close()

    def states(self) -> list[tuple[float, str, int]]:
        found = []
        for at, payload in self.messages:
            message = orjson.loads(payload)
            if message["type"] != "next" or "errors" in message["payload"]:
                raise SystemExit(f"subscriber {self.n} got {message}")
            job = message["payload"]["data"]["job"]
            found.append((at, job["status"], job["processed"]))
        return found


async def run(
    host: str, port: int, token: str, job_id: str, count: int, seconds: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    subscribers = [Subscriber(f"{host}:{port}", token, job_id, n) for n in range(count)]
    for first in range(0, count, OPENING):
        batch = subscribers[first : first + OPENING]
        await asyncio.gather(*(loop.create_connection(lambda s=s: s, host, port) for s in batch))
        await asyncio.wait_for(asyncio.gather(*(s.subscribed for s in batch)), 30)
    print("ready", flush=True)
    done, pending = await asyncio.wait([s.done for s in subscribers], timeout=seconds)
    failed = sum(1 for future in done if future.exception() is not None)
    for subscriber in subscribers:
        if subscriber.transport is not None:
            subscriber.transport.close()
    return {
        "received": [s.states() for s in subscribers],
        "unfinished": len(pending),
        "failed": failed,
    }


def main() -> None:
    host, port, token, job_id, count, seconds, out = sys.argv[1:8]
    results = uvloop.run(run(host, int(port), token, job_id, int(count), float(seconds)))
    Path(out).write_text(json.dumps(results))


if __name__ == "__main__":
    main()

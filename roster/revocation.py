"""Open WebSockets by the token that opened them, closed within seconds of its revocation.

Each API process asks PostgreSQL, every few seconds and in one query, which of its sockets'
tokens are still active. The database is where a token is revoked, whoever revokes it (the CLI,
SQL by hand), so every instance sees every revocation without a message having to reach it; and
the cost is one query per process per interval, however many sockets are open. A change this
process hears of (roster.tokencache listens for every one) has it ask at once: a revoked console
closes within a moment, not at the next interval."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from asyncpg import InterfaceError, Pool, PostgresError

from db import tokens

log = logging.getLogger(__name__)

CHECK_INTERVAL = 2.0

Close = Callable[[], Awaitable[None]]


class OpenSockets:
    def __init__(self, pool: Pool, interval: float = CHECK_INTERVAL) -> None:
        self.pool = pool
        self.interval = interval
        self.sockets: dict[UUID, set[Close]] = {}
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()

    async def start(self) -> None:
        self.task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def add(self, token_id: UUID, close: Close) -> None:
        """`close` is awaited once the token is found revoked."""
        self.sockets.setdefault(token_id, set()).add(close)

    def discard(self, token_id: UUID, close: Close) -> None:
        closes = self.sockets.get(token_id)
        if closes is not None:
            closes.discard(close)
            if not closes:
                del self.sockets[token_id]

    def token_changed(self, token_id: UUID | None) -> None:
        """Told of a change to a token (None: to every token), perhaps its revocation."""
        if token_id is None or token_id in self.sockets:
            self.wake.set()

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            if self.sockets:
                await self.close_revoked()

    async def close_revoked(self) -> None:
        watched = list(self.sockets)
        try:
            async with self.pool.acquire() as conn:
                active = await tokens.active_among(conn, watched)
        except (OSError, PostgresError, InterfaceError):
            # Sockets stay open meanwhile; each operation on them checks its token anyway.
            log.warning("WebSocket token check: PostgreSQL unavailable, retrying")
            return
        for token_id in watched:
            if token_id not in active:
                for close in self.sockets.pop(token_id, set()):
                    await close()

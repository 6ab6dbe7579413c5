"""The tokens this API process has seen, kept in memory so that a request needs no query to
know its caller, and forgotten the moment PostgreSQL says they changed.

Migration 0014 has PostgreSQL notify every change to a token (revoked, edited, deleted, its
tenant deleted) at commit; each process listens on one connection of its own, outside the pool,
and drops what it holds of that token. While that connection is not listening (starting, lost,
PostgreSQL restarting) a change could go unheard, so the cache is emptied and not used: every
request asks PostgreSQL, as it would without a cache, until the connection listens again.

A change reaches the process a moment after its commit (under a millisecond usually, a few
on a loaded machine), during which a request may still pass on what it held: the price of
asking nothing per request. WebSocket operations do not use the cache.

Only tokens found active are kept: a token made a moment ago works at once, and unknown tokens
cannot fill the cache. Entries are dropped after `max_age` seconds anyway, and the oldest go
first past `max_entries`."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from uuid import UUID

from asyncpg import Connection, InterfaceError, PostgresError

from db import tokens
from db.pool import connect
from schema.context import Principal

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
MAX_AGE = 60.0
# How often the listening connection is checked: a connection cut without a word (a network
# partition) looks alive to its client until a round trip fails.
HEARTBEAT = 5.0
HEARTBEAT_TIMEOUT = 3.0
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
# How long the app's start waits for the listener before serving without the cache.
START_TIMEOUT = 2.0


class Unannounced(Exception):
    """The database does not announce token changes: `roster migrate` has not run."""


_FAILURES = (OSError, PostgresError, InterfaceError, TimeoutError, Unannounced)


class TokenCache:
    def __init__(
        self,
        dsn: str,
        *,
        max_entries: int = MAX_ENTRIES,
        max_age: float = MAX_AGE,
        on_change: Callable[[UUID | None], None] | None = None,
    ) -> None:
        self.dsn = dsn
        # Told of every change heard, after the cache forgot the token.
        self.on_change = on_change
        self.max_entries = max_entries
        self.max_age = max_age
        # token hash -> (caller, monotonic time it expires)
        self.entries: dict[bytes, tuple[Principal, float]] = {}
        self.hashes: dict[UUID, bytes] = {}
        # Moves on every change heard and every (re)connection: a look-up that began before a
        # move may have read what the change replaced, and is not kept.
        self.generation = 0
        self.listener: Connection | None = None
        self.listening = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), START_TIMEOUT)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    @property
    def usable(self) -> bool:
        # is_closed() too: asyncpg tells its termination listeners one loop turn after the loss.
        return self.listener is not None and not self.listener.is_closed()

    def get(self, digest: bytes) -> Principal | None:
        if not self.usable:
            return None
        entry = self.entries.get(digest)
        if entry is None:
            return None
        principal, expires = entry
        if time.monotonic() >= expires:
            self._drop(digest)
            return None
        return principal

    def ticket(self) -> int | None:
        """To take before looking a token up in PostgreSQL, and give back to `put`; None when
        nothing found now may be kept."""
        return self.generation if self.usable else None

    def put(self, digest: bytes, principal: Principal, ticket: int | None) -> None:
        """Keeps an active token found by a look-up that began at `ticket`, unless a change was
        heard (or the listener lost) since."""
        if ticket is None or ticket != self.generation or not self.usable:
            return
        if principal.token_id is None:
            return  # not a stored token: no notification would ever name it
        if len(self.entries) >= self.max_entries and digest not in self.entries:
            self._drop(next(iter(self.entries)))
        self.entries[digest] = (principal, time.monotonic() + self.max_age)
        self.hashes[principal.token_id] = digest

    def changed(self, token_id: UUID | None) -> None:
        self.generation += 1
        if token_id is None:
            self._clear()
        else:
            digest = self.hashes.pop(token_id, None)
            if digest is not None:
                self.entries.pop(digest, None)
        if self.on_change is not None:
            self.on_change(token_id)

    def _drop(self, digest: bytes) -> None:
        principal, _ = self.entries.pop(digest)
        if principal.token_id is not None:
            self.hashes.pop(principal.token_id, None)

    def _clear(self) -> None:
        self.entries.clear()
        self.hashes.clear()

    async def _listen(self) -> None:
        """Listens, and listens again after every loss, waiting longer after each failure."""
        delay = RETRY_FIRST
        down_since: float | None = None
        while True:
            try:
                conn = await asyncio.wait_for(self._connect(), HEARTBEAT_TIMEOUT * 2)
                started = time.monotonic()
            except _FAILURES as e:
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning(
                        "Token cache off: cannot listen to PostgreSQL (%s: %s); every request "
                        "looks its token up until it can",
                        type(e).__name__,
                        e,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            if down_since is not None:
                log.warning("Token cache on again, after %.1f s off", time.monotonic() - down_since)
            try:
                await self._serve(conn)
            finally:
                self._lost()
                conn.terminate()
            down_since = time.monotonic()
            log.warning("Token cache off: lost its PostgreSQL connection, reconnecting")
            # A connection lost as soon as made (a server shutting down) waits like a refused one.
            if time.monotonic() - started < RETRY_MAX:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
            else:
                delay = RETRY_FIRST

    async def _connect(self) -> Connection:
        conn = await connect(self.dsn)
        try:
            if not await tokens.listen_for_changes(conn, self.changed):
                raise Unannounced("the database lacks migration 0014: run `roster migrate`")
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def _serve(self, conn: Connection) -> None:
        """Uses the cache while `conn` listens; returns once it does not."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        # Whatever was looked up before now may have missed a change made while no one listened.
        self._clear()
        self.generation += 1
        self.listener = conn
        self.listening.set()
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), HEARTBEAT)
                return
            try:
                await asyncio.wait_for(tokens.ping(conn), HEARTBEAT_TIMEOUT)
            except _FAILURES:
                return

    def _lost(self) -> None:
        self.listener = None
        self.listening.clear()
        self.generation += 1
        self._clear()

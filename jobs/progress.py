"""Job progress over Redis pub/sub: workers publish each change, every API instance relays it
to its subscribers."""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# At most ~10 messages a second per job; the last state of a job is always sent.
MIN_INTERVAL = 0.1
# Progress is best effort: a message Redis does not take this fast is dropped.
PUBLISH_SECONDS = 2


def channel(job_id: UUID | str) -> str:
    return f"roster:job:{job_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def encode_job(job: Mapping[str, Any] | Record) -> str:
    return json.dumps({k: _plain(v) for k, v in job.items()})


def decode_job(message: str | bytes) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(message)
    for key in ("created_at", "updated_at", "started_at", "finished_at", "expires_at"):
        if job.get(key):
            job[key] = datetime.fromisoformat(job[key])
    for key in ("id", "tenant_id", "file_id", "actor_token_id"):
        if job.get(key):
            job[key] = UUID(job[key])
    return job


class Publisher:
    """Publishes one job's states, skipping intermediate ones that come too fast. Best effort:
    while Redis is unavailable the job goes on and its messages are dropped (subscribers read
    the job from the database when they reconnect)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.last = 0.0
        self.processed = 0
        self.failing = False

    async def publish(self, job: Mapping[str, Any] | Record, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < MIN_INTERVAL:
            return
        # Chunks written at once may report in another order than they committed in.
        if not final and job["processed"] < self.processed:
            return
        self.last = now
        self.processed = job["processed"]
        try:
            async with asyncio.timeout(PUBLISH_SECONDS):
                await self.redis.publish(channel(job["id"]), encode_job(job))
        except (RedisError, OSError, TimeoutError) as e:
            if not self.failing:  # once while it lasts
                log.warning("job %s: progress not published (%r); the job goes on", job["id"], e)
            self.failing = True
        else:
            self.failing = False


# How often, at most, the relay looks for listeners whose job has been quiet too long.
RECHECK_EVERY = 0.5


class _Listener:
    """A queue of a job's states, and when it last had news (a state, or a nudge to look at
    the database itself)."""

    __slots__ = ("last", "quiet", "queue")

    def __init__(self, quiet: float | None) -> None:
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=64)
        self.quiet = quiet
        self.last = time.monotonic()


class JobRelay:
    """One Redis pub/sub connection per API process, fanning job progress out to every local
    subscriber, so a thousand subscribers cost one connection and not a thousand. A listener
    that asks is nudged (None in its queue) when its job has published nothing for a while:
    one check for all of them, where a timer each cost a thousand subscribers a timer armed
    and cancelled for every state."""

    def __init__(self, redis: Redis) -> None:
        self.pubsub = redis.pubsub()
        self.listeners: dict[str, dict[asyncio.Queue[Any], _Listener]] = {}
        # When each channel last carried a state.
        self.heard: dict[str, float] = {}
        self.checked = time.monotonic()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]

    @contextlib.asynccontextmanager
    async def listen(
        self, job_id: UUID, *, nudge_after: float | None = None
    ) -> AsyncIterator[asyncio.Queue[Any]]:
        """A queue of the job's states published from now on, until the block ends; with
        `nudge_after`, None in it each time that many seconds (and up to a second more) pass
        without one."""
        name = channel(job_id)
        listener = _Listener(nudge_after)
        listeners = self.listeners.setdefault(name, {})
        listeners[listener.queue] = listener
        try:
            if len(listeners) == 1:
                await self.pubsub.subscribe(name)
            yield listener.queue
        finally:
            listeners.pop(listener.queue, None)
            if not listeners:
                del self.listeners[name]
                self.heard.pop(name, None)
                await self.pubsub.unsubscribe(name)

    async def _pump(self) -> None:
        while True:
            if not self.pubsub.subscribed:
                await asyncio.sleep(0.02)
                continue
            try:
                message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                self._nudge_quiet()
                if message is None or message.get("type") != "message":
                    continue
                name = message["channel"]
                name = name.decode() if isinstance(name, bytes) else name
                job = decode_job(message["data"])
            except RedisError:
                # redis-py reconnects and resubscribes; subscribers re-read the database
                # meanwhile.
                log.warning("job progress relay: Redis unavailable, retrying")
                await asyncio.sleep(0.5)
                continue
            except ValueError:
                log.warning("job progress relay: unreadable message skipped")
                continue
            self.heard[name] = time.monotonic()
            # Every listener gets the same dict: the subscription makes one answer of it.
            for queue in list(self.listeners.get(name, ())):
                _put(queue, job)

    def _nudge_quiet(self) -> None:
        now = time.monotonic()
        if now - self.checked < RECHECK_EVERY:
            return
        self.checked = now
        for name, listeners in self.listeners.items():
            heard = self.heard.get(name, 0.0)
            for listener in listeners.values():
                if listener.quiet is not None and max(heard, listener.last) + listener.quiet <= now:
                    listener.last = now
                    _put(listener.queue, None)


def _put(queue: asyncio.Queue[Any], item: Any) -> None:
    if queue.full():
        # A slow subscriber only needs the latest states.
        queue.get_nowait()
    queue.put_nowait(item)

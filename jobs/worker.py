"""arq's WorkerSettings: the functions Roster's workers run. The arq-specific code stays here."""

from typing import Any

from arq import cron

from db.pool import create_pool

HEARTBEAT_SECONDS = 10
# Set by whichever worker takes the heartbeat job off the queue: while it exists, jobs are being
# consumed (a worker that is up but stuck would not refresh it).
HEARTBEAT_KEY = "roster:worker:heartbeat"


async def startup(ctx: dict[str, Any]) -> None:
    # The command that starts the worker puts the database URL into ctx.
    ctx["pool"] = await create_pool(ctx["database_url"], min_size=1, max_size=4)
    await worker_heartbeat(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["pool"].close()


async def worker_heartbeat(ctx: dict[str, Any]) -> None:
    await ctx["redis"].set(HEARTBEAT_KEY, "1", ex=HEARTBEAT_SECONDS * 3)


class WorkerSettings:
    functions: list[Any] = []
    cron_jobs = [
        cron(
            worker_heartbeat,
            second=set(range(0, 60, HEARTBEAT_SECONDS)),
            unique=True,
            run_at_startup=False,
        )
    ]
    on_startup = startup
    on_shutdown = shutdown

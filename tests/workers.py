"""Stopping a worker that runs in the test's event loop."""

import asyncio
import contextlib
import gc
import warnings

from arq.worker import Worker


async def stop_worker(worker: Worker, task: "asyncio.Task[None]") -> None:
    """Stops `worker`, whose main() runs as `task`. Cancelled in the middle of a call to Redis
    (its loop looks for aborted jobs every poll_delay), arq leaves that call's pipeline open,
    and Python reports it as an unclosed session when it frees it: that happens here, where it
    is expected, and not as an error of whichever test frees it next."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()
        gc.collect()

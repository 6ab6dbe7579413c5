"""The processes that hash passwords: started fresh (nothing of their parent inherited) and dying
with their parent.

A forked helper inherited its parent's PostgreSQL and Redis sockets and signal handlers: after a
`kill -9` of the worker it lived on, keeping the connection that held the job's lock open, so
the job was never taken up again."""

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def hashing_pool(workers: int | None) -> ProcessPoolExecutor:
    """A pool of `workers` processes (one per core when None or 0) that die with this one."""
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count(),
        # Spawned, not forked: a fresh interpreter holds no socket, lock or handler of ours.
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def die_with_parent(parent: int) -> None:
    """Run in each pool process: the kernel kills it when `parent` dies, however it dies."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    # The parent may have died before the request above: this process is someone else's now.
    if os.getppid() != parent:
        os._exit(1)
    # A Ctrl-C in a terminal reaches the whole process group: the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

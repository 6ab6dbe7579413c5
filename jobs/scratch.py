"""A worker's scratch directory, where imports keep their local copy of the upload (plaintext
passwords included): the service user's alone, and swept when its worker is found dead.

Each worker has its own directory, named with its host and process id, so that a worker
starting up removes those of the dead workers of its host and nothing a live one holds."""

import logging
import os
import re
import shutil
import socket
import tempfile

log = logging.getLogger(__name__)

_PREFIX = "roster-worker-"


def make_scratch_dir() -> str:
    """Sweeps the scratch directories of this host's dead workers; returns a new one for this
    worker (mode 0700: files in it are for the service user only)."""
    host = _host()
    _sweep(host)
    return tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-{host}-")


def remove_scratch_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _host() -> str:
    # Workers on other hosts (containers sharing a volume) have process ids of their own.
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())


def _sweep(host: str) -> None:
    base = tempfile.gettempdir()
    mine = re.compile(rf"{re.escape(_PREFIX)}(\d+)-{re.escape(host)}-[a-z0-9_]+")
    for entry in os.scandir(base):
        found = mine.fullmatch(entry.name)
        if found is None or not entry.is_dir(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_uid != os.getuid():
            continue
        if not _alive(int(found.group(1))):
            log.info("removing %s, left by a worker that died", entry.path)
            shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True

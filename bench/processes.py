"""The processes a benchmark runs: uvicorn apps and workers, logged to a file, waited for."""

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used, from /proc/<pid>/stat."""
    return _cpu_of(Path(f"/proc/{pid}/stat").read_text())


def _cpu_of(stat: str) -> float:
    # utime and stime, the 14th and 15th fields; the command name before them may hold spaces.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process of this machine (backends, WAL writer, checkpointer):
    read before and after a measure, while its connections are open (an ended backend's CPU
    is gone from the sum)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        if "(postgres)" in text:
            total += _cpu_of(text)
    return total


def log_file(name: str) -> IO[bytes]:
    path = Path(tempfile.gettempdir()) / f"roster-bench-{name}.log"
    print(f"log: {path}")
    return path.open("wb")


def start(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """`python -m <args>` from the project's root, with `env` over this environment."""
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )


def start_app(app: str, port: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """One uvicorn process; `app` is "module:attribute", or "module:function()" for a factory."""
    factory = ["--factory"] if app.endswith("()") else []
    return start(
        [
            "uvicorn",
            app.removesuffix("()"),
            *factory,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        log,
    )


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(150):
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
        process.wait()

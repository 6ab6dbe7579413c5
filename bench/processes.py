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

"""A real headless Chromium (Debian's package) for tests that look at a page as a person would:
`dump_dom` gives the page as the browser rendered it, `screenshot` a PNG of it."""

import asyncio
import shutil
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def _run(*args: str) -> bytes:
    assert CHROMIUM, "chromium is not installed (scripts/test installs it)"
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return out


async def dump_dom(url: str, *, wait_ms: int = 2000) -> str:
    """The DOM after the page's scripts ran for `wait_ms` (scripts that fetch go on meanwhile)."""
    out = await _run(f"--virtual-time-budget={wait_ms}", "--dump-dom", url)
    return out.decode()


async def screenshot(url: str, path: Path, *, wait_ms: int = 2000) -> None:
    await _run(
        f"--virtual-time-budget={wait_ms}", "--window-size=1200,900", f"--screenshot={path}", url
    )

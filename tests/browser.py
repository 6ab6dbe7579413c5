"""A real headless Chromium (Debian's package) for tests that look at a page as a person would:
`dump_dom` gives the page as the browser rendered it, `screenshot` a PNG of it, and `Page`
drives a tab (clicks, typing, what it requested) over the DevTools protocol."""

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def _run(*args: str) -> bytes:
    assert CHROMIUM, "chromium is not installed (scripts/test installs it)"
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
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


class Page:
    """One tab of a headless Chromium driven over the DevTools protocol: navigate, evaluate
    JavaScript, and see every URL the page requested (`requested`)."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._loaded = asyncio.Event()

    async def __aenter__(self) -> "Page":
        assert CHROMIUM, "chromium is not installed (scripts/test installs it)"
        # Chromium's helper processes may still be writing to the profile as it goes.
        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self._process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile.name}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            # Its own process group: the renderers and the zygote end with the browser.
            start_new_session=True,
        )
        port = await self._devtools_port(Path(self._profile.name) / "DevToolsActivePort")
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page = next(t for t in targets if t["type"] == "page")
        self._socket = await connect(page["webSocketDebuggerUrl"], max_size=None)
        self._reader = asyncio.create_task(self._read())
        await self.send("Network.enable")
        await self.send("Page.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await self._socket.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        await self._process.wait()
        self._profile.cleanup()

    @staticmethod
    async def _devtools_port(path: Path) -> int:
        # 30 s: a first start on a busy machine (fonts, profile) took longer than 10 once.
        for _ in range(600):
            if path.exists() and (lines := path.read_text().splitlines()):
                return int(lines[0])
            await asyncio.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    async def _read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            if "id" in message:
                self._waiting.pop(message["id"]).set_result(message)
            elif message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            elif message.get("method") == "Page.loadEventFired":
                self._loaded.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._waiting[ident] = asyncio.get_running_loop().create_future()
        await self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        message = await asyncio.wait_for(self._waiting[ident], timeout=30)
        assert "error" not in message, message
        result: dict[str, Any] = message["result"]
        return result

    async def goto(self, url: str) -> None:
        self._loaded.clear()
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(self._loaded.wait(), timeout=30)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float = 20) -> Any:
        """The value of `expression` once it is truthy; fails after `timeout` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (value := await self.evaluate(expression)):
            assert asyncio.get_running_loop().time() < deadline, f"never true: {expression}"
            await asyncio.sleep(0.1)
        return value

"""The console at 1,000,000 users, measured in the browser: the first list, a search and a page
change, each from the action to the animation frame that shows its rows (p50/p95/max), and the
tab's JS heap after a forced garbage collection while paging through 100 pages.
Target (issue #22, item 7): each within 300 ms; the heap flat (no growth beyond ~1 MB).

    .venv/bin/python bench/console.py [--users 1000000] [--reuse] [--repeat 20]

Seeds its own database (roster_bench_console, or BENCH_CONSOLE_DATABASE, on the server of
DATABASE_URL) with bench/search.py's `build`; `--reuse` keeps it and applies newer migrations.
Playwright drives Debian's Chromium (no browser download), signed in from a one-time link.
"""

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, CDPSession, Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import log_file, start_app, stop, wait_up  # noqa: E402
from bench.search import PREWARM, SERVER, build  # noqa: E402
from bench.seed import COMMON_LAST_NAMES, ascii_fold  # noqa: E402
from db import migrate  # noqa: E402
from db.events import Actor  # noqa: E402
from db.pool import connect  # noqa: E402
from roster.console_links import create_link  # noqa: E402

DB_URL = migrate._with_database(
    SERVER, os.environ.get("BENCH_CONSOLE_DATABASE", "roster_bench_console")
)
REDIS_URL = os.environ.get("BENCH_CONSOLE_REDIS", "redis://localhost:6379/7")
TARGET_MS = 300
HEAP_PAGES = (1, 25, 50, 75, 100)
TIMEOUT_MS = 30_000

# Installed in every document before the console's own scripts (so the page's CSP does not
# apply to it). Times are the page's performance.now(): from the action, caught by a listener
# in the capture phase, or for a navigation from its start (the document's time origin), to
# the first animation frame whose DOM holds the expected rows, the frame that paints them.
SHOWN = "bench: rows shown"
INSTRUMENT = (
    r"""
(() => {
  const SHOWN = '"""
    + SHOWN
    + r"""';
  const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const boxes = () => [...document.querySelectorAll('table.users tbody input[type=checkbox]')];
  // The users query is the last /graphql request to end before the rows show.
  const request = () => {
    const graphql = (e) => new URL(e.name).pathname === '/graphql';
    const done = performance.getEntriesByType('resource').filter(graphql);
    const last = done.sort((a, b) => a.responseEnd - b.responseEnd).at(-1);
    return last ? { asked: last.startTime, answered: last.responseEnd } : null;
  };
  const bench = { t0: null, t1: null, request: null };
  const watch = (done) => {
    const tick = () => {
      if (bench.t0 !== null && done()) {
        bench.t1 = performance.now();
        bench.request = request();
        console.debug(SHOWN);
      } else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  bench.first = () => boxes()[0]?.getAttribute('aria-label') ?? null;
  // kind 'search': every row holds `arg` (accents aside); 'page': the first row is not `arg`.
  bench.arm = (kind, arg) => {
    bench.t0 = bench.t1 = bench.request = null;
    performance.clearResourceTimings();
    const holds = (box) => fold(box.closest('tr').textContent).includes(arg);
    const done =
      kind === 'search'
        ? () => boxes().length > 0 && boxes().every(holds)
        : () => boxes().length > 0 && bench.first() !== arg;
    const start = () => { bench.t0 = performance.now(); };
    addEventListener(kind === 'search' ? 'input' : 'click', start, { capture: true, once: true });
    watch(done);
  };
  if (location.pathname === '/console/users') {
    bench.t0 = 0;
    watch(() => boxes().length > 0);
  }
  window.__bench = bench;
})();
"""
)
DONE = "() => window.__bench && window.__bench.t1 !== null"
RESULT = """() => {
  const b = window.__bench;
  return { total: b.t1 - b.t0, asked: b.request && b.request.asked - b.t0,
           answered: b.request && b.request.answered - b.t0 };
}"""


@dataclass
class Timings:
    """What one kind of action took, each time: total, and when its /graphql request was sent
    and answered (ms after the action)."""

    name: str
    total: list[float] = field(default_factory=list)
    asked: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        self.total.append(result["total"])
        if result["asked"] is not None:
            self.asked.append(result["asked"])
            self.answered.append(result["answered"])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def warm_cache() -> None:
    """The database read into the cache, as on a server in use (see bench/search.py's
    warm_cache: this machine's host pages out what nothing touched for a minute)."""
    conn = await connect(DB_URL)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        await conn.fetchrow(PREWARM)
    finally:
        await conn.close()


async def sign_in_link(public_url: str) -> str:
    conn = await connect(DB_URL)
    try:
        link, _ = await create_link(conn, public_url, "bench", "admin", Actor(None, "bench"))
    finally:
        await conn.close()
    return link


async def result(page: Page) -> dict[str, Any]:
    await page.wait_for_function(DONE, timeout=TIMEOUT_MS)
    outcome: dict[str, Any] = await page.evaluate(RESULT)
    return outcome


async def open_list(page: Page, url: str) -> dict[str, Any]:
    """Navigates to the plain users list; its timing, once the first rows show. Waits for the
    instrument's console message rather than with wait_for_function, which would put
    Playwright's own script (some hundred KB) into the new document while it loads: evaluating
    it held the console's main thread for 10 to 30 ms (seen in a Chromium trace) and added that
    to every first list measured."""
    with_message = page.expect_console_message(lambda m: m.text == SHOWN, timeout=TIMEOUT_MS)
    async with with_message as shown:
        await page.goto(f"{url}/console/users", wait_until="commit")
    await shown.value
    outcome: dict[str, Any] = await page.evaluate(RESULT)
    return outcome


async def first_lists(page: Page, url: str, repeat: int) -> Timings:
    """The list opened again and again in one tab: the console's files in the browser's cache,
    as for an administrator who comes back to it."""
    timings = Timings("first list (tab)")
    await open_list(page, url)
    for _ in range(repeat):
        timings.add(await open_list(page, url))
    return timings


async def cold_first_lists(browser: Browser, url: str, state: Any, repeat: int) -> Timings:
    """The list opened in a new browser context each time: the session's cookie, an empty
    cache, so every file of the console comes over the wire."""
    timings = Timings("first list (empty cache)")
    for _ in range(repeat):
        context = await browser.new_context(storage_state=state)
        try:
            await context.add_init_script(INSTRUMENT)
            timings.add(await open_list(await context.new_page(), url))
        finally:
            await context.close()
    return timings


async def searches(page: Page, url: str, repeat: int) -> Timings:
    """Part of a name typed without accents in the search box, a different common surname each
    time; timed from the box's last input event, so the console's typing delay counts."""
    timings = Timings("search")
    terms = [ascii_fold(name) for name in COMMON_LAST_NAMES[:8]]
    await open_list(page, url)
    box = page.get_by_role("searchbox", name="Search users")
    for n in range(repeat):
        term = terms[n % len(terms)]
        await page.evaluate("([kind, arg]) => window.__bench.arm(kind, arg)", ["search", term])
        await box.fill(term)
        timings.add(await result(page))
    return timings


async def heap(cdp: CDPSession) -> dict[str, float]:
    """The tab's JS heap after a full garbage collection, its DOM nodes and listeners."""
    for _ in range(2):
        await cdp.send("HeapProfiler.collectGarbage")
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    values = {m["name"]: m["value"] for m in metrics}
    return {
        "heap_mb": values["JSHeapUsedSize"] / 1e6,
        "nodes": values["Nodes"],
        "listeners": values["JSEventListeners"],
    }


async def paging(
    context: BrowserContext, page: Page, url: str, pages: int
) -> tuple[Timings, list[tuple[int, dict[str, float]]]]:
    """Page after page with "Next page" from the plain list: each change timed, the heap read
    at the pages of HEAP_PAGES."""
    timings = Timings("page change")
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    await open_list(page, url)
    next_page = page.get_by_role("button", name="Next page")
    # Playwright's own script, injected into the tab the first time a locator is resolved,
    # lives in the same heap: in place before the first reading, it is not counted as growth.
    await next_page.wait_for()
    readings = [(1, await heap(cdp))]
    for number in range(2, pages + 1):
        first = await page.evaluate("() => window.__bench.first()")
        await page.evaluate("([kind, arg]) => window.__bench.arm(kind, arg)", ["page", first])
        await next_page.click()
        timings.add(await result(page))
        if number in HEAP_PAGES:
            readings.append((number, await heap(cdp)))
    await cdp.detach()
    return timings, readings


def report(timings: Timings) -> bool:
    total = timings.total
    ok = p95(total) <= TARGET_MS
    split = ""
    if timings.asked:
        split = (
            f"  (request sent at p50 {statistics.median(timings.asked):.0f}, "
            f"answered at {statistics.median(timings.answered):.0f})"
        )
    print(
        f"{timings.name:26} n={len(total):3}  p50={statistics.median(total):6.0f}  "
        f"p95={p95(total):6.0f}  max={max(total):6.0f} ms  {'ok' if ok else 'MISS'}{split}"
    )
    return ok


def report_heap(readings: list[tuple[int, dict[str, float]]]) -> bool:
    print(f"{'page':>6} {'JS heap after GC':>17} {'DOM nodes':>10} {'listeners':>10}")
    for number, values in readings:
        print(
            f"{number:6} {values['heap_mb']:14.2f} MB {values['nodes']:10.0f}"
            f" {values['listeners']:10.0f}"
        )
    heaps = [values["heap_mb"] for _, values in readings]
    band = max(heaps) - min(heaps)
    flat = band < 1.0
    # The first pages warm the engine up (its compiled code grows): the later trend is apart.
    later = ""
    if len(heaps) > 2:
        later = f", from page {readings[1][0]}: {heaps[-1] - heaps[1]:+.2f} MB"
    print(
        f"heap from page 1 to {readings[-1][0]}: {heaps[-1] - heaps[0]:+.2f} MB{later}, "
        f"range {band:.2f} MB: {'flat, ok' if flat else 'GROWS, MISS'}"
    )
    return flat


async def measure(url: str, repeat: int, pages: int) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(base_url=url, locale="en-US")
            await context.add_init_script(INSTRUMENT)
            page = await context.new_page()
            await page.goto(await sign_in_link(url))
            await page.wait_for_url("**/console/users*")
            state = await context.storage_state()
            await warm_cache()
            results = [
                await cold_first_lists(browser, url, state, repeat),
                await first_lists(page, url, repeat),
            ]
            await warm_cache()
            results.append(await searches(page, url, repeat))
            await warm_cache()
            changes, readings = await paging(context, page, url, pages)
            results.append(changes)
        finally:
            await browser.close()
    print(f"\n{'action':26} (ms from the action to the frame that shows the rows)")
    fast = [report(timings) for timings in results]
    print()
    flat = report_heap(readings)
    verdict = "met" if all(fast) and flat else "MISSED"
    print(f"\ntarget: p95 <= {TARGET_MS} ms each, heap flat: {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    parser.add_argument("--repeat", type=int, default=20, help="times each action is measured")
    parser.add_argument("--pages", type=int, default=100, help="pages walked for the heap")
    args = parser.parse_args()
    if args.reuse:
        await migrate.migrate(DB_URL)
    else:
        started = time.perf_counter()
        await build(args.users, DB_URL)
        print(f"database ready in {time.perf_counter() - started:.0f} s")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "PUBLIC_URL": url}
    server = start_app("roster.app:create_app()", port, env, log_file("console-server"))
    try:
        await wait_up(f"{url}/healthz")
        await measure(url, args.repeat, args.pages)
    finally:
        stop(server)


if __name__ == "__main__":
    asyncio.run(main())

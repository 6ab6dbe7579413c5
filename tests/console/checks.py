"""What every console test checks of a screen: axe-core finds no serious or critical violation
of accessibility; and, with ROSTER_SCREENSHOTS=1, a picture of it for docs/console.md."""

import os
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
BLOCKING = {"serious", "critical"}

_axe = Axe()


async def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it stands."""
    results = await _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v["impact"] in BLOCKING]


async def assert_accessible(page: Page, screen: str, *, picture: bool = True) -> None:
    """No serious or critical violation on the screen, and its screenshot taken when asked for
    (`picture`: a screen docs/console.md shows)."""
    blocking = await blocking_violations(page)
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"{screen}: axe-core found\n{report}"
    if picture:
        await screenshot(page, screen)


async def screenshot(page: Page, screen: str) -> None:
    """docs/console/<screen>.png, only with ROSTER_SCREENSHOTS=1: a CI run leaves the tree as it
    was."""
    if os.environ.get("ROSTER_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{screen}.png", full_page=True)

"""The console in a real browser: Playwright driving Debian's Chromium (one for the whole run,
launched from its own path: Playwright downloads no browser), the app served on a free localhost
port, and a fresh browser context (cookies, storage, locale) for each test."""

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from roster.app import create_app
from roster.settings import Settings
from tests.live_server import serve

CHROMIUM = shutil.which("chromium")
TIMEOUT_MS = 10_000  # a shared two-core machine; the console itself answers in well under 1 s


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/lib.sh's ensure_chromium installs it)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as url:
        yield url


async def new_context(browser: Browser, server: str, locale: str = "en-US") -> BrowserContext:
    context = await browser.new_context(base_url=server, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
async def context(browser: Browser, server: str) -> AsyncIterator[BrowserContext]:
    context = await new_context(browser, server)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()

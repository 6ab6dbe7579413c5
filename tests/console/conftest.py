"""The console in a real browser: Playwright driving Debian's Chromium (one for the whole run,
launched from its own path: Playwright downloads no browser), the app served on a free localhost
port, a fresh browser context (cookies, storage, locale) for each test, and the API over HTTP
to the same server for what a test sets up and checks."""

import asyncio
import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import RedisSettings
from arq.worker import create_worker
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    async_playwright,
)

from jobs.addresses import AddressPolicy
from jobs.webhooks import WebhookConfig
from jobs.worker import WorkerSettings
from roster.app import create_app
from roster.settings import Settings
from rules.addresses import parse_networks
from tests.conftest import REDIS_URL, Tenant
from tests.console.session import console_link, sign_in
from tests.live_server import bind, serve
from tests.mailbox import SmtpServer, mail_config
from tests.workers import stop_worker

CHROMIUM = shutil.which("chromium")
TIMEOUT_MS = 10_000  # a shared two-core machine; the console itself answers in well under 1 s
# The receivers of these tests listen on loopback, which webhooks reach only when allowed.
LOOPBACK = parse_networks("127.0.0.0/8")


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, beside the only tests that use it (--strict-markers).
    config.addinivalue_line(
        "markers",
        "slow: takes minutes (the 100,000-row import); scripts/test and CI run it like any "
        "other test, -m 'not slow' leaves it out of a quick local run",
    )


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
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, webhook_allowed_networks=LOOPBACK)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    # The app's links (an export's download) are made on PUBLIC_URL: this server's own.
    bound = bind()
    async with serve(create_app(dataclasses.replace(settings, public_url=bound[1])), bound) as url:
        yield url


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API of the server the browser uses, over HTTP: tests/conftest's `admin` and
    `reader` send their GraphQL through it."""
    async with httpx.AsyncClient(base_url=server) as http:
        yield http


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
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A tab that fails the test on an uncaught script error or a request the page's policy
    refused (an inline style, an eval)."""
    tab = await context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    def on_error(error: Error) -> None:
        problems.append(f"{error.name}: {error.message}")

    tab.on("console", on_console)
    tab.on("pageerror", on_error)
    yield tab
    assert problems == [], problems


@pytest.fixture
async def console(page: Page, server: str, db_url: str, acme: Tenant) -> Page:
    """The tab signed in to acme's console with an admin session, showing the users list."""
    await sign_in(page, await console_link(db_url, server, acme.slug))
    return page


@pytest.fixture
def webhook_config() -> WebhookConfig:
    """How the tests' workers deliver webhooks: quick retries to loopback receivers. A test
    module wanting deliveries to give up sooner overrides this fixture."""
    return WebhookConfig(
        timeout=5,
        retry_base=0.2,
        retry_cap=1,
        poll_interval=0.05,
        addresses=AddressPolicy(LOOPBACK),
    )


@contextlib.asynccontextmanager
async def running_worker(db_url: str, webhooks: WebhookConfig) -> AsyncIterator[SmtpServer]:
    """A worker running beside the server (imports, exports, welcome e-mails, webhooks), in
    this event loop, until the block ends; its e-mails go to the SMTP server it yields."""
    smtp = SmtpServer().start()
    arq_worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(REDIS_URL),
        ctx={
            "database_url": db_url,
            "hash_workers": 1,
            "mail": mail_config(smtp.url),
            "webhooks_config": webhooks,
        },
        poll_delay=0.05,
        cron_jobs=[],
        handle_signals=False,
    )
    task = asyncio.create_task(arq_worker.main())
    try:
        yield smtp
    finally:
        await stop_worker(arq_worker, task)
        smtp.stop()


@pytest.fixture
async def worker(db_url: str, webhook_config: WebhookConfig) -> AsyncIterator[SmtpServer]:
    """A worker for the whole test (see running_worker)."""
    async with running_worker(db_url, webhook_config) as smtp:
        yield smtp

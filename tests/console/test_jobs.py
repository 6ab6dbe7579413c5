"""The Jobs screen: every job (an import, an export, welcome e-mails) with who started it; a
job opened from the list while it waits shows its bar, which follows it live once a worker
takes it; and the screen in Spanish."""

from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from jobs.webhooks import WebhookConfig
from tests.conftest import Api, Tenant
from tests.console.checks import assert_accessible
from tests.console.conftest import new_context, running_worker
from tests.console.people import add_users
from tests.console.session import console_link, sign_in

WELCOME = """
mutation($ids: [ID!]!) { sendWelcomeEmail(ids: $ids) { job { id } userErrors { code } } }
"""
EXPORT = "mutation { startExport { job { id } userErrors { code } } }"
FILE = """username,email,first_name,last_name
zoe,zoe@example.com,Zoe,Ruiz
yan,yan@example.com,Yan,Li
"""


async def three_jobs(page: Page, admin: Api, reader: Api, tmp_path: Path) -> None:
    """Welcome e-mails (the admin token), an export (the read token) and an import (this
    console), all left queued: no worker runs yet."""
    ids = await add_users(admin, {"username": "ann"}, {"username": "bob"})
    sent = (await admin.data(WELCOME, ids=[ids["ann"]]))["sendWelcomeEmail"]
    assert sent["userErrors"] == [], sent
    exported = (await reader.data(EXPORT))["startExport"]
    assert exported["userErrors"] == [], exported
    path = tmp_path / "two.csv"
    path.write_text(FILE, encoding="utf-8")
    await page.get_by_role("link", name="Imports").click()
    await page.get_by_label("CSV file").set_input_files(path)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("progressbar", name="Import: progress")).to_be_visible()


def jobs_table(page: Page) -> Locator:
    return page.locator("table.jobs tbody tr")


async def listed(page: Page) -> list[list[str]]:
    """Each job row's kind, status, started by (newest first)."""
    await expect(page.locator("table.jobs")).to_have_attribute("aria-busy", "false")
    rows = []
    for row in await jobs_table(page).all():
        cells = await row.locator("td").all_inner_texts()
        rows.append([cells[0], cells[1].strip(), cells[3]])
    return rows


async def test_every_job_with_who_started_it_and_a_waiting_job_followed_live(
    console: Page,
    admin: Api,
    reader: Api,
    db_url: str,
    webhook_config: WebhookConfig,
    tmp_path: Path,
) -> None:
    await three_jobs(console, admin, reader, tmp_path)
    await console.get_by_role("navigation", name="Console").get_by_role("link", name="Jobs").click()
    await expect(console.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    assert await listed(console) == [
        ["Import", "Queued", "the console"],
        ["Export", "Queued", "read token"],
        ["Welcome e-mails", "Queued", "admin token"],
    ]
    await assert_accessible(console, "jobs")

    await jobs_table(console).get_by_role("link", name="Import", exact=True).click()
    await console.wait_for_url("**/console/jobs/*")
    region = console.get_by_role("region", name="Import", exact=True)
    bar = region.get_by_role("progressbar", name="Import: progress")
    await expect(bar).to_have_attribute("aria-valuenow", "0")
    await expect(region).to_contain_text("waiting for a worker to take it")
    await expect(region).to_contain_text("Started by the console")
    await assert_accessible(console, "job-queued")

    # A worker takes the jobs: the open page's bar follows its job to the end.
    async with running_worker(db_url, webhook_config) as smtp:
        await expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30_000)
        await expect(region.get_by_role("status")).to_have_text(
            "Import finished: 2 created, 0 updated, 0 deleted, 0 with errors."
        )
        await console.get_by_role("link", name="← All jobs").click()
        await expect(jobs_table(console).get_by_text("Succeeded")).to_have_count(3)
    assert [m.to for m in smtp.mailbox.received] == ["ann@example.com"]
    assert [r[1] for r in await listed(console)] == ["Succeeded"] * 3


async def test_the_jobs_screen_in_spanish(
    browser: Browser, server: str, db_url: str, acme: Tenant, reader: Api
) -> None:
    assert (await reader.data(EXPORT))["startExport"]["userErrors"] == []
    context = await new_context(browser, server, locale="es-ES")
    try:
        page = await context.new_page()
        await sign_in(page, await console_link(db_url, server, acme.slug))
        nav = page.get_by_role("navigation", name="Consola")
        await expect(nav.get_by_role("link", name="Importaciones")).to_be_visible()
        await nav.get_by_role("link", name="Tareas").click()
        await expect(page.get_by_role("heading", name="Tareas", level=1)).to_be_visible()
        await expect(page.get_by_role("columnheader", name="Iniciada por")).to_be_visible()
        row = jobs_table(page)
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("En cola")
        await expect(row).to_contain_text("read token")
        await assert_accessible(page, "jobs-es")

        await row.get_by_role("link", name="Exportación").click()
        await expect(page.get_by_role("progressbar", name="Exportación: progreso")).to_be_visible()
    finally:
        await context.close()

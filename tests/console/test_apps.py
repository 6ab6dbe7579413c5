"""The Apps screens: an app added with its webhook on a localhost receiver; its secret rotated
(shown once, the old one's end shown) and used to sign Send test's delivery; a delivery the
receiver refuses shows its attempts and last answer, and Redeliver sends it again. A read
session sees none of these actions, nor Import."""

import dataclasses
import re

import pytest
from playwright.async_api import Locator, Page, expect
from standardwebhooks import Webhook

from jobs.webhooks import WebhookConfig
from tests.conftest import Api, Tenant
from tests.console.checks import assert_accessible
from tests.console.session import console_link, sign_in
from tests.mailbox import SmtpServer
from tests.receiver import Received, Receiver, ok

PLATFORM = "query($id: ID!) { node(id: $id) { ... on Platform { key roles webhookUrl "
PLATFORM += "webhookBatchSize webhookPreviousSecretUntil } } }"
CREATE = """
mutation($input: CreatePlatformInput!) {
  createPlatform(input: $input) { platform { id } userErrors { message } } }
"""
SEND_TEST = "mutation($id: ID!) { sendTestWebhook(platformId: $id) { delivery { id } } }"
DELIVERIES = """
query($id: ID!) { webhookDeliveries(platform: $id, first: 10) { edges { node { id status } } } }
"""


@pytest.fixture
def webhook_config(webhook_config: WebhookConfig) -> WebhookConfig:
    """Deliveries give up two seconds after they were queued: a refused one fails at once."""
    return dataclasses.replace(webhook_config, retry_window=2)


async def refuse(request: Received) -> int:
    return 500


def deliveries(page: Page) -> Locator:
    return page.get_by_role("region", name="Deliveries").locator("tbody tr")


async def add_app(page: Page, receiver: Receiver) -> str:
    """Adds CRM from the Apps screen; its id, from the app page's address."""
    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Apps").click()
    await expect(page.get_by_role("heading", name="Apps", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name="LearningCloud")).to_be_visible()
    await page.get_by_role("button", name="Add an app").click()
    await page.get_by_label("Name", exact=True).fill("CRM")
    await page.get_by_label("Key", exact=True).fill("crm")
    await page.get_by_label("Roles", exact=True).fill("agent, manager")
    await page.get_by_label("Webhook URL").fill(receiver.url)
    await page.get_by_label("Events a request").fill("1")
    await assert_accessible(page, "apps-add")
    await page.get_by_role("button", name="Create app").click()
    await expect(page.get_by_role("heading", name="CRM", level=1)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


async def test_add_an_app_rotate_its_secret_and_send_a_test(
    console: Page, admin: Api, receiver: Receiver, worker: SmtpServer
) -> None:
    app_id = await add_app(console, receiver)
    await expect(console.get_by_role("status").first).to_have_text(
        "CRM added. Its webhook secret is below, shown this once."
    )
    secret = console.get_by_role("textbox", name="Webhook secret")
    first = await secret.input_value()
    assert first.startswith("whsec_")
    saved = (await admin.data(PLATFORM, id=app_id))["node"]
    assert saved["key"] == "crm" and saved["roles"] == ["agent", "manager"]
    assert (saved["webhookUrl"], saved["webhookBatchSize"]) == (receiver.url, 1)

    # Rotated after a confirmation: a new secret, shown once, and the old one's end.
    await console.get_by_role("button", name="Rotate secret").click()
    dialog = console.get_by_role("dialog", name="Rotate the signing secret?")
    await dialog.get_by_role("button", name="Rotate now").click()
    await expect(secret).not_to_have_value(first)
    second = await secret.input_value()
    assert second.startswith("whsec_")
    until = (await admin.data(PLATFORM, id=app_id))["node"]["webhookPreviousSecretUntil"]
    assert until is not None
    await expect(
        console.get_by_text(re.compile(r"^The old secret keeps working until \S")).first
    ).to_be_visible()
    await expect(console.get_by_role("button", name="Copy")).to_be_visible()
    await assert_accessible(console, "app-secret")

    # Send test: signed with the new secret (and the old one, for a day).
    await console.get_by_role("button", name="Send test").click()
    await expect(console.get_by_text("Test webhook queued: it shows below.")).to_be_visible()
    (event,) = await receiver.wait_for(1)
    assert event["type"] == "webhook.test"
    request = receiver.requests[0]
    Webhook(second).verify(request.body, request.headers)
    Webhook(first).verify(request.body, request.headers)
    row = deliveries(console).first
    await expect(row).to_contain_text("Delivered", timeout=15_000)
    await expect(row).to_contain_text("webhook.test")
    await expect(row).to_contain_text("HTTP 200")


async def test_a_failed_delivery_shows_its_attempts_and_is_redelivered(
    console: Page, admin: Api, receiver: Receiver, worker: SmtpServer
) -> None:
    await add_app(console, receiver)
    receiver.answer = refuse
    await console.get_by_role("button", name="Send test").click()
    failed = deliveries(console).filter(has_text="Failed")
    await expect(failed).to_have_count(1, timeout=20_000)
    await expect(failed).to_contain_text("HTTP 500")
    attempts = int(await failed.locator("td").nth(3).inner_text())
    assert attempts >= 2
    assert len(receiver.requests) == attempts
    await console.get_by_label("Delivery status").select_option("FAILED")
    await expect(deliveries(console)).to_have_count(1)
    await assert_accessible(console, "app-deliveries")

    receiver.answer = ok
    await console.get_by_label("Delivery status").select_option("")
    await failed.get_by_role("button", name="Redeliver").click()
    await expect(console.get_by_text("webhook.test queued to be delivered again.")).to_be_visible()
    row = deliveries(console).first
    await expect(row).to_contain_text("Delivered", timeout=15_000)
    await expect(row).to_contain_text("HTTP 200")
    assert [e["type"] for e in receiver.events()] == ["webhook.test"]
    assert len(receiver.requests) == attempts + 1


async def test_a_read_session_sees_no_import_rotate_redeliver_or_send_test(
    page: Page,
    server: str,
    db_url: str,
    acme: Tenant,
    admin: Api,
    receiver: Receiver,
    worker: SmtpServer,
) -> None:
    made = await admin.data(
        CREATE,
        input={"key": "crm", "name": "CRM", "roles": ["agent"], "webhookUrl": receiver.url},
    )
    app_id = made["createPlatform"]["platform"]["id"]
    receiver.answer = refuse
    delivery = (await admin.data(SEND_TEST, id=app_id))["sendTestWebhook"]["delivery"]

    await sign_in(page, await console_link(db_url, server, acme.slug, scope="read"))
    nav = page.get_by_role("navigation", name="Console")
    await expect(nav.get_by_role("link", name="Jobs")).to_be_visible()
    await expect(nav.get_by_role("link", name="Imports")).to_have_count(0)
    await page.goto("/console/import")
    await expect(page.get_by_text("This session is read-only: it cannot import")).to_be_visible()
    for name in ("Import", "Dry run"):
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    await expect(page.get_by_label("CSV file")).to_have_count(0)

    await nav.get_by_role("link", name="Apps").click()
    await expect(page.get_by_role("link", name="CRM")).to_be_visible()
    await expect(page.get_by_role("button", name="Add an app")).to_have_count(0)
    await page.get_by_role("link", name="CRM").click()
    await expect(page.get_by_role("heading", name="CRM", level=1)).to_be_visible()
    await expect(deliveries(page).filter(has_text="Failed")).to_have_count(1, timeout=20_000)
    edges = (await admin.data(DELIVERIES, id=app_id))["webhookDeliveries"]["edges"]
    assert [e["node"] for e in edges] == [{"id": delivery["id"], "status": "FAILED"}]
    await expect(page.get_by_text(receiver.url)).to_be_visible()
    for name in ("Rotate secret", "Send test", "Redeliver", "Save"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)
    await assert_accessible(page, "app-read-only")

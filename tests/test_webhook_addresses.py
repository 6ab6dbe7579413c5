"""Webhooks go to public addresses only: loopback, private, link-local, shared, unspecified,
multicast and reserved addresses are refused however they are written, when a URL is registered
and again at every attempt, which connects to the address it checked. Names resolve through a
resolver the tests give (never DNS), and nothing is sent anywhere but loopback."""

import asyncio
import dataclasses
import socket
from ipaddress import ip_address
from typing import Any

import httpx
import pytest

from db.pool import connect
from jobs.addresses import AddressPolicy, RefusedAddress, checked_addresses
from jobs.webhook_client import delivery_client
from jobs.webhooks import WebhookConfig, WebhookLoop
from roster.settings import Settings
from rules.addresses import IPAddress, literal_address, parse_networks, refusal
from tests.conftest import Api
from tests.receiver import Receiver
from tests.test_webhooks import CREATE_PLATFORM, FAST, PING, UPDATE_PLATFORM, deliveries, settled

# A public address the fake resolver hands out; nothing ever connects to it.
PUBLIC = "93.184.215.14"
PLATFORMS = "{ platforms { key webhookUrl } }"


class Names:
    """A resolver for tests: names mapped to addresses, changed at will (a rebinding)."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {
            "hooks.example": [PUBLIC],
            "intranet.example": ["10.0.0.1"],
            "metadata.example": ["169.254.169.254"],
            "mixed.example": [PUBLIC, "192.168.1.20"],
            "rebind.example": ["127.0.0.1"],
            "v6.example": ["2606:4700:4700::1111", "::1"],
        }
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in self.table[host]]


@pytest.fixture
def names() -> Names:
    return Names()


@pytest.fixture
def allowed(request: pytest.FixtureRequest) -> str:
    """ROSTER_WEBHOOK_ALLOWED_NETWORKS: none, unless a test says (`indirect` parameters)."""
    return str(getattr(request, "param", ""))


@pytest.fixture
def settings(settings: Settings, names: Names, allowed: str) -> Settings:
    """The API's: names from `names`, networks allowed as the test says."""
    return dataclasses.replace(
        settings, webhook_allowed_networks=parse_networks(allowed), webhook_resolver=names
    )


# An operator's ROSTER_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8, for receivers on this machine.
LOOPBACK_ALLOWED = pytest.mark.parametrize("allowed", ["127.0.0.0/8"], indirect=True)


REFUSED = [
    ("127.0.0.1", "loopback"),
    ("localhost", "loopback"),
    ("LocalHost.", "loopback"),
    ("api.localhost", "loopback"),
    ("[::1]", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("[::]", "unspecified"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0x7f.1", "loopback"),
    ("127.1", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("127.0.0.1.", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[::127.0.0.1]", "loopback"),
    ("[2002:7f00:1::]", "loopback"),
    ("[64:ff9b::a00:1]", "private"),
    ("169.254.169.254", "link-local"),
    ("[fe80::1]", "link-local"),
    ("[fe80::1%25eth0]", "local"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("[fc00::1]", "private"),
    ("[fd12:3456::1]", "private"),
    ("100.64.0.1", "shared (CGNAT)"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("[fec0::1]", "reserved"),
    ("192.0.2.1", "private"),
]


@pytest.mark.parametrize(("host", "kind"), REFUSED)
async def test_every_spelling_of_an_address_inside_is_refused(
    host: str, kind: str, names: Names
) -> None:
    with pytest.raises(RefusedAddress) as refused:
        await checked_addresses(host, 80, AddressPolicy((), names))
    assert refused.value.kind == kind
    assert names.asked == []  # an address, or localhost: nothing to look up


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "[2606:4700:4700::1111]", "[::ffff:8.8.8.8]", "[64:ff9b::808:808]"]
)
def test_public_addresses_pass(host: str) -> None:
    address = literal_address(host)
    assert address is not None and refusal(address) is None


def test_the_allow_list_lets_networks_in_and_only_those() -> None:
    allowed = parse_networks("127.0.0.0/8, 10.1.0.0/16")
    assert refusal(ip_address("127.0.0.1"), allowed) is None
    assert refusal(ip_address("::ffff:127.0.0.1"), allowed) is None
    assert refusal(ip_address("10.1.2.3"), allowed) is None
    assert refusal(ip_address("10.2.0.1"), allowed) == "private"
    assert refusal(ip_address("::1"), allowed) == "loopback"
    with pytest.raises(ValueError, match="'localhost' is not an IP address or network"):
        parse_networks("127.0.0.0/8,localhost")


def test_settings_read_the_allow_list_and_the_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSTER_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    monkeypatch.setenv("ROSTER_WEBHOOK_RETENTION", "12h")
    settings = Settings()
    assert [str(n) for n in settings.webhook_allowed_networks] == ["127.0.0.0/8", "::1/128"]
    assert settings.webhook_retention == 12 * 3600
    assert settings.webhooks().addresses.allowed == settings.webhook_allowed_networks
    monkeypatch.delenv("ROSTER_WEBHOOK_RETENTION")
    assert Settings().webhook_retention == 30 * 86400
    monkeypatch.setenv("ROSTER_WEBHOOK_RETENTION", "soon")
    with pytest.raises(ValueError, match="ROSTER_WEBHOOK_RETENTION"):
        Settings()
    monkeypatch.setenv("ROSTER_WEBHOOK_ALLOWED_NETWORKS", "intranet")
    with pytest.raises(ValueError, match="ROSTER_WEBHOOK_ALLOWED_NETWORKS"):
        Settings()


async def create(api: Api, url: str, key: str = "crm") -> dict[str, Any]:
    data = await api.data(
        CREATE_PLATFORM,
        input={"key": key, "name": key.upper(), "roles": ["agent"], "webhookUrl": url},
    )
    payload: dict[str, Any] = data["createPlatform"]
    return payload


async def test_registering_an_inside_address_is_a_user_error(admin: Api) -> None:
    urls = [f"http://{host}/hook" for host, _ in REFUSED] + [
        "http://127.0.0.1:6379/",  # Redis
        "http://localhost:5432/",  # PostgreSQL
        "https://intranet.example/hook",
        "http://metadata.example/latest/meta-data/",
        "https://mixed.example/hook",  # one private address among public ones is one too many
        "https://v6.example/hook",
    ]
    for url in urls:
        payload = await create(admin, url)
        assert payload["platform"] is None, url
        (error,) = payload["userErrors"]
        assert error["code"] == "ADDRESS_NOT_ALLOWED", (url, error)
        assert error["field"] == ["input", "webhookUrl"]
        assert "public addresses only" in error["message"]
    keys = [p["key"] for p in (await admin.data(PLATFORMS))["platforms"]]
    assert "crm" not in keys


async def test_public_and_unresolved_names_are_accepted_and_changes_checked(admin: Api) -> None:
    # A name without addresses yet is accepted: each attempt checks it again.
    for key, url in (("crm", "https://hooks.example/h"), ("wiki", "https://later.example/h")):
        payload = await create(admin, url, key)
        assert payload["userErrors"] == [], payload
    crm = (await create(admin, f"https://{PUBLIC}/h", "lms"))["platform"]
    data = await admin.data(
        UPDATE_PLATFORM, id=crm["id"], input={"webhookUrl": "http://0x0a000001/h"}
    )
    (error,) = data["updatePlatform"]["userErrors"]
    assert error["code"] == "ADDRESS_NOT_ALLOWED"
    urls = {p["key"]: p["webhookUrl"] for p in (await admin.data(PLATFORMS))["platforms"]}
    assert urls["lms"] == f"https://{PUBLIC}/h"  # unchanged


@LOOPBACK_ALLOWED
async def test_the_allow_list_admits_a_name_that_resolves_inside(admin: Api) -> None:
    assert (await create(admin, "http://rebind.example:8080/h"))["userErrors"] == []
    assert (await create(admin, "http://127.0.0.1:8080/h", "wiki"))["userErrors"] == []
    payload = await create(admin, "http://[::1]:8080/h", "lms")
    assert payload["userErrors"][0]["code"] == "ADDRESS_NOT_ALLOWED"


def worker_config(names: Names, allowed: str = "") -> WebhookConfig:
    return dataclasses.replace(FAST, addresses=AddressPolicy(parse_networks(allowed), names))


async def test_a_name_that_rebinds_to_loopback_fails_at_delivery_without_retries(
    admin: Api, receiver: Receiver, names: Names, db_url: str
) -> None:
    url = f"http://hooks.example:{receiver.port}/hook"
    crm = (await create(admin, url))["platform"]  # public when registered
    names.table["hooks.example"] = ["127.0.0.1"]  # and loopback when sent
    await admin.data(PING, id=crm["id"])
    loop = await WebhookLoop.start(db_url, worker_config(names))
    try:
        (delivery,) = await settled(admin, 1)
    finally:
        await loop.stop()
    assert delivery["status"] == "FAILED" and delivery["attempts"] == 1
    assert delivery["lastError"] == "refused address" and delivery["lastResponseCode"] is None
    assert receiver.requests == []
    assert names.asked.count("hooks.example") == 2  # at registration, and at the attempt


@LOOPBACK_ALLOWED
async def test_an_address_allowed_when_registered_is_checked_again_when_sent(
    admin: Api, receiver: Receiver, names: Names, db_url: str
) -> None:
    crm = (await create(admin, receiver.url))["platform"]
    await admin.data(PING, id=crm["id"])
    loop = await WebhookLoop.start(db_url, worker_config(names))  # the worker allows none
    try:
        (delivery,) = await settled(admin, 1)
    finally:
        await loop.stop()
    assert delivery["status"] == "FAILED" and delivery["lastError"] == "refused address"
    assert receiver.requests == []


@LOOPBACK_ALLOWED
async def test_the_request_goes_to_the_checked_address_with_the_hosts_name(
    admin: Api, receiver: Receiver, names: Names, allowed: str, db_url: str
) -> None:
    names.table["hooks.example"] = ["127.0.0.1"]
    crm = (await create(admin, f"http://hooks.example:{receiver.port}/hook"))["platform"]
    names.asked.clear()
    await admin.data(PING, id=crm["id"])
    loop = await WebhookLoop.start(db_url, worker_config(names, allowed))
    try:
        await receiver.wait_for(1)
        (delivery,) = await settled(admin, 1)
    finally:
        await loop.stop()
    assert delivery["status"] == "SUCCEEDED"
    assert receiver.requests[0].headers["host"] == f"hooks.example:{receiver.port}"
    assert names.asked == ["hooks.example"]  # once for the attempt, by Roster itself


async def test_the_delivery_client_connects_nowhere_it_did_not_check(receiver: Receiver) -> None:
    async with delivery_client(10, 2) as client:
        with pytest.raises(httpx.ConnectError, match="not checked"):
            await client.post(receiver.url, content=b"{}")
    assert receiver.requests == []


@LOOPBACK_ALLOWED
async def test_the_delivery_errors_are_categories_not_library_text(
    admin: Api, names: Names, allowed: str, db_url: str
) -> None:
    closed = Receiver()  # nothing listens on its port
    crm = (await create(admin, closed.url))["platform"]
    wiki = (await create(admin, "http://gone.example:1/h", "wiki"))["platform"]
    await admin.data(PING, id=crm["id"])
    await admin.data(PING, id=wiki["id"])
    loop = await WebhookLoop.start(db_url, worker_config(names, allowed))
    try:
        found = await tried(admin, 2)
    finally:
        await loop.stop()
    assert {d["lastError"] for d in found} == {"connection failed"}
    conn = await connect(db_url)
    try:
        stored = await conn.fetch("SELECT DISTINCT last_error FROM webhook_deliveries")
    finally:
        await conn.close()
    assert [r["last_error"] for r in stored] == ["connection failed"]


async def tried(api: Api, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(15):
        while True:
            found = await deliveries(api)
            if len(found) >= count and all(d["attempts"] for d in found):
                return found
            await asyncio.sleep(0.05)

"""Every HTTP answer carries the same security headers, and every HTTP error the same JSON
shape: a GraphQL result, a 400, a 401, a 404, the 413 of every endpoint that takes a body
(/set-password's too, which was an HTML page without them), and an unexpected error's 500."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

import roster.app
from roster.app import create_app
from roster.security_headers import security_headers
from roster.set_password import MAX_BODY_BYTES
from roster.settings import Settings
from tests.conftest import Tenant

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
QUERY = '{"query": "{ platforms { key } }"}'


def secured(response: httpx.Response) -> bool:
    return all(response.headers.get(name) == value for name, value in SECURITY.items())


def json_error(response: httpx.Response, status: int) -> str:
    """The error's code, once the answer is checked to be the JSON error of `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert secured(response), dict(response.headers)
    code: str = response.json()["error"]["code"]
    return code


async def test_answers_and_errors_carry_the_same_security_headers(
    client: httpx.AsyncClient, acme: Tenant
) -> None:
    token = {"authorization": f"Bearer {acme.read_token}", "content-type": "application/json"}
    answer = await client.post("/graphql", content=QUERY, headers=token)
    assert answer.status_code == 200 and secured(answer), dict(answer.headers)
    assert secured(await client.get("/healthz"))
    refused = await client.post(
        "/graphql", content=QUERY, headers={"content-type": "application/json"}
    )
    assert json_error(refused, 401) == "UNAUTHORIZED"
    assert json_error(await client.get("/nowhere"), 404) == "NOT_FOUND"
    read_only = await client.post("/imports", content=b"email\n", headers=token)
    assert json_error(read_only, 403) == "FORBIDDEN"
    admin = {"authorization": f"Bearer {acme.admin_token}", "content-type": "text/csv"}
    bad = await client.post("/imports?nope=1", content=b"email\n", headers=admin)
    assert json_error(bad, 400) == "UNKNOWN_PARAMETER"
    invalid = await client.post(
        "/graphql",
        content='{"query": "{ nope }"}',
        headers={**token, "accept": "application/graphql-response+json"},
    )
    assert invalid.status_code == 400 and secured(invalid), dict(invalid.headers)


async def test_every_body_too_large_is_a_json_error_with_the_headers(
    client: httpx.AsyncClient, acme: Tenant, settings: Settings
) -> None:
    admin = {"authorization": f"Bearer {acme.admin_token}"}
    over = {"content-length": str(settings.max_body_bytes + 1), "content-type": "application/json"}
    refused = await client.post("/graphql", content=b"{}", headers={**admin, **over})
    assert json_error(refused, 413) == "BODY_TOO_LARGE"
    over = {"content-length": str(settings.max_upload_bytes + 1), "content-type": "text/csv"}
    refused = await client.post("/imports", content=b"email\n", headers={**admin, **over})
    assert json_error(refused, 413) == "FILE_TOO_LARGE"


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_a_set_password_form_too_large_is_a_json_error_with_the_headers(
    client: httpx.AsyncClient, declared: bool
) -> None:
    form = b"token=x&password=" + b"p" * MAX_BODY_BYTES

    async def chunked() -> AsyncIterator[bytes]:
        yield form

    headers = {"content-type": "application/x-www-form-urlencoded"}
    if declared:
        response = await client.post("/set-password", content=form, headers=headers)
    else:
        response = await client.post("/set-password", content=chunked(), headers=headers)
    assert json_error(response, 413) == "BODY_TOO_LARGE"
    assert f"{MAX_BODY_BYTES:,} bytes" in response.json()["error"]["message"]


async def test_graphiqls_page_keeps_its_scripts(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Its scripts are Roster's own, which a policy that loads nothing would block.
    assert "content-security-policy" not in page.headers
    assert all(page.headers[name] == SECURITY[name] for name in list(SECURITY)[:3])


async def broken_healthz(*_: object) -> None:
    raise RuntimeError("a bug")


async def test_an_unexpected_error_is_a_json_error_with_the_headers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster.app, "healthz", broken_healthz)
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            response = await c.get("/healthz")
    assert json_error(response, 500) == "INTERNAL_ERROR"
    assert response.json()["error"]["message"] == "Unexpected error."


def test_answers_of_data_are_not_stored_and_files_keep_their_caching() -> None:
    not_stored = (b"cache-control", b"no-store")
    for data in (b"application/json", b"text/event-stream", b"multipart/mixed; boundary=-"):
        assert not_stored in security_headers([(b"content-type", data)]), data
    for page_or_file in (b"text/html; charset=utf-8", b"text/javascript; charset=utf-8"):
        assert not_stored not in security_headers([(b"content-type", page_or_file)])
    # An answer that says how to cache it is left as it says.
    kept = [(b"content-type", b"application/json"), (b"cache-control", b"private, max-age=60")]
    assert not_stored not in security_headers(kept)

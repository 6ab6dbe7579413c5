"""Request bodies are bounded before they are read: the token and its scope first, then the
declared length, then the bytes as they arrive, so an oversized body is refused having read at
most the limit of it."""

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from db.pool import connect
from roster.app import create_app
from roster.settings import Settings
from tests.conftest import Tenant

BODY_LIMIT = 4096
UPLOAD_LIMIT = 1000
CHUNK = 1024
HUGE = 10 << 20
QUERY = "{ users { totalCount } }"
START_IMPORT = (
    "mutation($file: Upload!) { startImport(file: $file) { job { id } userErrors { code } } }"
)
BOUNDARY = "roster-boundary"


class Body:
    """A request body (`head`, `size` bytes of filler, `tail`) sent in small chunks, counting
    how much of it the server has asked for."""

    def __init__(self, head: bytes, size: int, tail: bytes = b"") -> None:
        self.head, self.size, self.tail = head, size, tail
        self.read = 0

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            self.read += len(chunk)
            yield chunk

    def _chunks(self) -> Iterator[bytes]:
        yield self.head
        for start in range(0, self.size, CHUNK):
            yield b"e" * min(CHUNK, self.size - start)
        yield self.tail


def json_body(size: int) -> Body:
    head = json.dumps({"query": QUERY, "variables": {"pad": ""}})[:-3].encode()
    return Body(head, size, b'"}}')


def multipart_body(size: int) -> Body:
    operations = json.dumps({"query": START_IMPORT, "variables": {"file": None}})
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.file"]}\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="0"; filename="users.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        "email\n"
    ).encode()
    return Body(head, size, f"\r\n--{BOUNDARY}--\r\n".encode())


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
async def small(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limits = dataclasses.replace(settings, max_body_bytes=BODY_LIMIT, max_upload_bytes=UPLOAD_LIMIT)
    async with LifespanManager(create_app(limits)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster.test") as c:
            yield c


async def post(
    client: httpx.AsyncClient,
    path: str,
    body: Body,
    token: str | None,
    content_type: str,
    declared: int | None = None,
) -> httpx.Response:
    """POSTs the body, chunked unless a Content-Length is `declared`."""
    headers = {"content-type": content_type}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if declared is not None:
        headers["content-length"] = str(declared)
    return await client.post(path, content=body, headers=headers)


async def stored_files(db_url: str) -> int:
    conn = await connect(db_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM files")
        return count
    finally:
        await conn.close()


def refused_as_too_large(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/json")
    # One shape for every HTTP error, on /graphql and /imports alike.
    error: dict[str, Any] = response.json()["error"]
    return error


# --- GraphQL documents ------------------------------------------------------------------------


async def test_a_json_body_under_the_limit_is_served(
    small: httpx.AsyncClient, acme: Tenant
) -> None:
    body = json_body(BODY_LIMIT // 2)
    response = await post(small, "/graphql", body, acme.read_token, "application/json")
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"users": {"totalCount": 0}}}


@pytest.mark.parametrize("declared", [None, 100], ids=["chunked", "understated length"])
async def test_a_json_body_over_the_limit_is_refused_unread(
    small: httpx.AsyncClient, acme: Tenant, declared: int | None
) -> None:
    body = json_body(HUGE)
    response = await post(small, "/graphql", body, acme.admin_token, "application/json", declared)
    error = refused_as_too_large(response)
    assert error["code"] == "BODY_TOO_LARGE"
    assert f"{BODY_LIMIT:,}" in error["message"]
    assert body.read <= BODY_LIMIT + CHUNK


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    small: httpx.AsyncClient, acme: Tenant
) -> None:
    body = json_body(HUGE)
    response = await post(
        small, "/graphql", body, acme.admin_token, "application/json", body.length
    )
    assert refused_as_too_large(response)["code"] == "BODY_TOO_LARGE"
    assert body.read == 0


async def test_without_a_token_nothing_is_read(small: httpx.AsyncClient) -> None:
    for content_type in ("application/json", MULTIPART):
        body = json_body(HUGE) if content_type == "application/json" else multipart_body(HUGE)
        response = await post(small, "/graphql", body, None, content_type)
        assert response.status_code == 401
        assert body.read == 0


# --- Uploads ----------------------------------------------------------------------------------


async def test_a_read_tokens_upload_is_refused_unread(
    small: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    body = multipart_body(HUGE)
    response = await post(small, "/graphql", body, acme.read_token, MULTIPART)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert body.read == 0
    body = Body(b"email\n", HUGE)
    response = await post(small, "/imports", body, acme.read_token, "text/csv")
    assert response.status_code == 403, response.text
    assert body.read == 0
    assert await stored_files(db_url) == 0


@pytest.mark.parametrize("declared", [None, 100], ids=["chunked", "understated length"])
async def test_an_upload_over_the_limit_is_refused_having_read_at_most_the_limit(
    small: httpx.AsyncClient, acme: Tenant, db_url: str, declared: int | None
) -> None:
    body = multipart_body(HUGE)
    response = await post(small, "/graphql", body, acme.admin_token, MULTIPART, declared)
    assert refused_as_too_large(response)["code"] == "BODY_TOO_LARGE"
    # The limit of a multipart request: the file's plus the GraphQL document's.
    assert body.read <= UPLOAD_LIMIT + BODY_LIMIT + CHUNK
    body = Body(b"email\n", HUGE)
    response = await post(small, "/imports", body, acme.admin_token, "text/csv", declared)
    assert refused_as_too_large(response)["code"] == "FILE_TOO_LARGE"
    assert body.read <= UPLOAD_LIMIT + CHUNK
    assert await stored_files(db_url) == 0


async def test_an_upload_declared_over_the_limit_is_refused_before_reading(
    small: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    body = multipart_body(HUGE)
    response = await post(small, "/graphql", body, acme.admin_token, MULTIPART, body.length)
    assert refused_as_too_large(response)["code"] == "BODY_TOO_LARGE"
    assert body.read == 0
    body = Body(b"email\n", HUGE)
    response = await post(small, "/imports", body, acme.admin_token, "text/csv", body.length)
    assert refused_as_too_large(response)["code"] == "FILE_TOO_LARGE"
    assert body.read == 0
    assert await stored_files(db_url) == 0


async def test_an_upload_within_the_limits_is_stored(
    small: httpx.AsyncClient, acme: Tenant, db_url: str
) -> None:
    body = multipart_body(UPLOAD_LIMIT // 2)
    response = await post(small, "/graphql", body, acme.admin_token, MULTIPART, body.length)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["startImport"]
    assert payload["userErrors"] == [] and payload["job"]["id"]
    body = Body(b"email\n", UPLOAD_LIMIT // 2)
    response = await post(small, "/imports", body, acme.admin_token, "text/csv", body.length)
    assert response.status_code == 202, response.text
    assert await stored_files(db_url) == 2

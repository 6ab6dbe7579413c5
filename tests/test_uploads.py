"""POST /imports (roster/uploads.py): the same options, defaults and token rules as the GraphQL
startImport mutation."""

from typing import Any

import httpx
import pytest

from tests.test_imports import post_csv, sql, upload

BODY = b"email\nana@example.com\n"


async def stored_options(db_url: str) -> list[Any]:
    rows = await sql(db_url, "SELECT options, dry_run FROM jobs ORDER BY created_at")
    return [(dict(r["options"]), r["dry_run"]) for r in rows]


async def test_options_left_out_are_the_graphql_defaults(
    client: httpx.AsyncClient, acme: Any, db_url: str
) -> None:
    assert (await post_csv(client, acme.admin_token, BODY)).status_code == 202
    response = await upload(client, acme.admin_token, BODY)
    assert response.json()["data"]["startImport"]["userErrors"] == []
    plain, graphql = await stored_options(db_url)
    assert (
        plain
        == graphql
        == (
            {
                "mode": "UPSERT",
                "match_by": "EMAIL",
                "roles_mode": "MERGE",
                "send_welcome_email": False,
                "encoding": None,
                "delimiter": None,
                "extra_columns_as_attributes": False,
            },
            False,
        )
    )


async def test_options_are_named_as_in_graphql(
    client: httpx.AsyncClient, acme: Any, db_url: str
) -> None:
    params = {
        "mode": "create",
        "matchBy": "USERNAME",
        "rolesMode": "replace",
        "dryRun": "yes",
        "sendWelcomeEmail": "1",
        "delimiter": ";",
        "encoding": "Latin-1",
        "extraColumns": "attributes",
    }
    assert (await post_csv(client, acme.admin_token, BODY, **params)).status_code == 202
    options = {
        "mode": "CREATE",
        "matchBy": "USERNAME",
        "rolesMode": "REPLACE",
        "dryRun": True,
        "sendWelcomeEmail": True,
        "delimiter": ";",
        "encoding": "Latin-1",
        "extraColumns": "ATTRIBUTES",
    }
    response = await upload(client, acme.admin_token, BODY, options)
    assert response.json()["data"]["startImport"]["userErrors"] == []
    plain, graphql = await stored_options(db_url)
    assert plain == graphql
    assert plain[0]["match_by"] == "USERNAME" and plain[0]["encoding"] == "latin-1"
    assert plain[1] is True


async def test_bad_options_and_read_only_tokens_are_refused(
    client: httpx.AsyncClient, acme: Any, db_url: str
) -> None:
    bad = await post_csv(client, acme.admin_token, BODY, mode="SIDEWAYS")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INVALID_OPTION"
    assert "SIDEWAYS" in bad.json()["error"]["message"]
    refused = await post_csv(client, acme.read_token, BODY)
    assert refused.status_code == 403
    # The words of the GraphQL refusal.
    assert refused.json() == {
        "error": {
            "code": "FORBIDDEN",
            "message": "This token is read-only: it cannot change anything.",
        }
    }
    assert await stored_options(db_url) == []


async def test_an_unknown_parameter_is_refused_and_runs_nothing(
    client: httpx.AsyncClient, acme: Any, db_url: str
) -> None:
    # `dryrun` is not `dryRun`: taken as no option at all, it would apply the file for real.
    response = await post_csv(client, acme.admin_token, BODY, dryrun="true")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "UNKNOWN_PARAMETER"
    assert "'dryrun'" in error["message"] and "dryRun" in error["message"]
    assert await stored_options(db_url) == []
    accepted = await post_csv(client, acme.admin_token, BODY, dryRun="true", name="staff.csv")
    assert accepted.status_code == 202, accepted.text


async def test_a_multipart_form_is_refused_with_the_command_that_works(
    client: httpx.AsyncClient, acme: Any, db_url: str
) -> None:
    # What `curl -F file=@users.csv` sends: the CSV would be read with the boundary as header.
    response = await client.post(
        "/imports",
        files={"file": ("users.csv", BODY, "text/csv")},
        headers={"authorization": f"Bearer {acme.admin_token}"},
    )
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "--data-binary @users.csv" in error["message"]
    assert await stored_options(db_url) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("POST", "/graphql", 401, "UNAUTHORIZED"),
        ("GET", "/graphql?query={platforms{key}}", 401, "UNAUTHORIZED"),
        ("POST", "/imports", 401, "UNAUTHORIZED"),
        ("GET", "/jobs/SW1wb3J0Sm9iOjE/errors.csv", 401, "UNAUTHORIZED"),
        ("GET", "/no-such-page", 404, "NOT_FOUND"),
        ("GET", "/imports", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/graphql", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_http_errors_answer_one_json_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(
        method, path, json={"query": "{ platforms { key } }"}, headers={"accept": "*/*"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message"], body
    assert body["error"]["code"] == code
    assert body["error"]["message"].endswith("."), body
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if status == 405:
        # The message names the methods the Allow header gives.
        allowed = response.headers["allow"]
        assert allowed and body["error"]["message"].endswith(f"; use {allowed}."), body


async def test_errors_of_an_authenticated_request_answer_the_same_shape(
    client: httpx.AsyncClient, acme: Any
) -> None:
    headers = {"authorization": f"Bearer {acme.admin_token}"}
    missing = await client.get("/jobs/SW1wb3J0Sm9iOjE/errors.csv", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    # Strawberry's own refusal (a GraphQL request without a query) is not plain text either.
    empty = await client.post("/graphql", json={}, headers=headers)
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "BAD_REQUEST"

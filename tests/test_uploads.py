"""POST /imports (roster/uploads.py): the same options, defaults and token rules as the GraphQL
startImport mutation."""

from typing import Any

import httpx

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
    assert bad.status_code == 400 and "Invalid option" in bad.json()["error"]
    refused = await post_csv(client, acme.read_token, BODY)
    assert refused.status_code == 403
    # The words of the GraphQL refusal.
    assert refused.json() == {"error": "This token is read-only: it cannot change anything."}
    assert await stored_options(db_url) == []

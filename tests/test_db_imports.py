"""db/imports.py against a real database: what an import writes into existing users."""

from typing import Any

from db import imports
from db.pool import connect
from db.users import PROFILE_COLUMNS
from rules.userfields import TEXT_FIELDS
from tests.conftest import Tenant

INSERT = """
INSERT INTO users (tenant_id, username, email, first_name, last_name, language, time_zone,
    office_phone, mobile_phone, location, external_id, attributes)
VALUES ($1, 'old', 'old@example.com', 'Old', 'Old', 'en', 'UTC', '1', '2', 'Here', 'x-1',
    '{"kept": "yes"}')
RETURNING id
"""


def new_value(column: str) -> Any:
    return {"attributes": {"team": "red"}}.get(column, f"new-{column}")


async def test_an_import_update_writes_every_profile_column(db_url: str, acme: Tenant) -> None:
    conn = await connect(db_url)
    try:
        user_id = await conn.fetchval(INSERT, acme.id)
        row = {column: new_value(column) for column in PROFILE_COLUMNS}
        assert await imports.update_users(conn, acme.id, [user_id], [row]) == [user_id]
        after = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    finally:
        await conn.close()
    assert after is not None
    for column in PROFILE_COLUMNS:
        expected = new_value(column)
        if column == "attributes":
            expected = {"kept": "yes", **expected}  # merged key by key
        assert after[column] == expected, column


async def test_an_import_update_leaves_blank_columns_as_they_are(db_url: str, acme: Tenant) -> None:
    conn = await connect(db_url)
    try:
        user_id = await conn.fetchval(INSERT, acme.id)
        before = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        blank = {column: None for column in imports.IMPORT_COLUMNS}
        assert await imports.update_users(conn, acme.id, [user_id], [blank]) == [user_id]
        after = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    finally:
        await conn.close()
    assert before is not None and after is not None
    for column in imports.IMPORT_COLUMNS:
        assert after[column] == before[column], column


def test_the_database_writes_every_field_the_rules_know() -> None:
    # db/ cannot import rules/: the two lists are kept apart, and this keeps them equal, so a
    # new profile field cannot be validated and then silently not written (or the reverse).
    assert PROFILE_COLUMNS == (*TEXT_FIELDS, "attributes")

"""The server log: expected client errors are not logged as tracebacks, unexpected ones are, and
nothing logged holds a password, a token or a secret, written inline or sent in variables."""

import logging
from typing import Any

import pytest

from db.pool import connect
from tests.conftest import Api, create_user

SECRET = "Inline-Lantern-Secret-9731"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler would write it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def set_password_inline(user_id: str) -> str:
    return f"""mutation {{ setPassword(id: "{user_id}", password: "{SECRET}") {{
        user {{ hasPassword }} userErrors {{ code }} }} }}"""


async def drop_events(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        await conn.execute("DROP TABLE events CASCADE")
    finally:
        await conn.close()


async def test_a_refused_mutation_logs_no_traceback_and_no_password(
    admin: Api, reader: Api, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await create_user(admin, "alice")
    caplog.set_level(logging.DEBUG)
    body = await reader(set_password_inline(alice["id"]))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert SECRET not in logged(caplog)
    assert not [r for r in caplog.records if r.exc_info], logged(caplog)


@pytest.mark.parametrize(
    "document",
    [
        # Invalid: an unknown field, a missing argument, a syntax error.
        f'mutation {{ setPassword(id: "x", password: "{SECRET}") {{ nope }} }}',
        f'mutation {{ setPassword(password: "{SECRET}") {{ userErrors {{ code }} }} }}',
        f'mutation {{ setPassword(id: "x", password: "{SECRET}") {{ userErrors {{ code }}',
        # A BadRequest of the paging arguments beside a secret in the same document.
        f'query {{ users(first: 101, search: "{SECRET}") {{ totalCount }} }}',
    ],
)
async def test_client_errors_are_not_logged(
    admin: Api, caplog: pytest.LogCaptureFixture, document: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = await admin(document)
    assert body["errors"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], logged(caplog)
    assert SECRET not in logged(caplog)


async def test_an_unexpected_error_is_logged_without_secrets(
    admin: Api, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await create_user(admin, "alice")
    await drop_events(db_url)
    caplog.set_level(logging.DEBUG)
    inline = await admin(set_password_inline(alice["id"]))
    in_variable = await admin(
        "mutation($id: ID!, $pw: String!) { setPassword(id: $id, password: $pw) "
        "{ userErrors { code } } }",
        id=alice["id"],
        pw=SECRET + "-variable",
    )
    new_user: dict[str, Any] = {
        "username": "bob",
        "email": "bob@example.com",
        "firstName": "Bob",
        "lastName": "B",
        "password": SECRET + "-input",
    }
    in_input = await admin(
        "mutation($input: CreateUserInput!) { createUser(input: $input) { userErrors { code } } }",
        input=new_user,
    )
    for body in (inline, in_variable, in_input):
        assert [e["message"] for e in body["errors"]] == ["Unexpected error."], body
    text = logged(caplog)
    # Logged, with what an operator needs: where it failed and why.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3, text
    assert "setPassword" in text and "createUser" in text
    assert "UndefinedTableError" in text and 'relation "events" does not exist' in text
    assert SECRET not in text


async def test_the_access_log_keeps_no_query_string(
    admin: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # A GET of /graphql carries its document in the query string, and a set-password link its
    # token: the app (made by the `admin` fixture) keeps them out of uvicorn's access log.
    caplog.set_level(logging.INFO)
    path = f'/graphql?query=mutation{{setPassword(id:"x",password:"{SECRET}"){{user{{id}}}}}}'
    # The call uvicorn's access logger makes for each request.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 405
    )
    assert SECRET not in logged(caplog)
    assert '"GET /graphql?… HTTP/1.1" 405' in logged(caplog)

"""A moment of the users filter that is no moment in UTC (year 1 at +14:00 is in year 0, year
9999 at -14:00 in year 10000) is the caller's mistake: a coded error, nothing logged as an
unexpected error, nothing exported."""

import logging

import pytest

from tests.conftest import Api

USERS = "query($f: UserFilter) { users(filter: $f) { totalCount } }"
EXPORT = """mutation($f: UserFilter) {
  startExport(filter: $f) { job { id } userErrors { field code message } }
}"""
OUT_OF_RANGE = [
    ("createdAfter", "0001-01-01T00:00:00+14:00"),
    ("createdBefore", "9999-12-31T23:59:59-14:00"),
    ("updatedAfter", "0001-01-01T00:00:00"),
    ("updatedBefore", "9999-12-31T12:00:00-12:00"),
]


def unexpected(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


@pytest.mark.parametrize(("name", "moment"), OUT_OF_RANGE)
async def test_the_users_query_refuses_a_moment_out_of_range(
    reader: Api, caplog: pytest.LogCaptureFixture, name: str, moment: str
) -> None:
    caplog.set_level(logging.DEBUG)
    (error,) = (await reader(USERS, f={name: moment}))["errors"]
    assert error["extensions"]["code"] == "INVALID_DATE"
    assert name in error["message"] and "out of range" in error["message"]
    assert not unexpected(caplog), [r.getMessage() for r in unexpected(caplog)]


async def test_an_inline_moment_out_of_range_is_refused_too(reader: Api) -> None:
    body = await reader(
        '{ users(filter: {createdAfter: "0001-01-01T00:00:00+14:00"}) { totalCount } }'
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_DATE"]


async def test_the_last_moments_in_range_are_taken(reader: Api) -> None:
    earliest = {"createdAfter": "0001-01-01T14:00:00+14:00"}
    assert (await reader.data(USERS, f=earliest))["users"]["totalCount"] == 0
    latest = {"createdBefore": "9999-12-31T09:59:59-14:00"}
    assert (await reader.data(USERS, f=latest))["users"]["totalCount"] == 0


async def test_an_export_refuses_a_moment_out_of_range(
    reader: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = (await reader.data(EXPORT, f={"createdAfter": "0001-01-01T00:00:00+14:00"}))[
        "startExport"
    ]
    assert payload["job"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["filter"], "INVALID_DATE")
    ]
    assert not unexpected(caplog)

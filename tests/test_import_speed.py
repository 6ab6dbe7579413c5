"""What the console's import screen says of a file's duration comes from the speed this
organisation's imports ran at (importSpeed), and every job says who started it (startedBy)."""

from typing import Any

import httpx

from jobs.import_writer import ANALYZE_AFTER
from tests.conftest import Api
from tests.test_imports import import_csv
from tests.test_users import fetchval

SPEED = "{ importSpeed { rowsPerSecond dryRunRowsPerSecond importsMeasured } }"
# What the planner believes the users table holds (-1: never analyzed).
RELTUPLES = "SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass"
JOBS = "{ jobs(first: 10) { edges { node { startedBy ... on ImportJob { dryRun } } } } }"


def users_csv(rows: int) -> bytes:
    lines = ["username,email,first_name,last_name"]
    lines += [f"u{i},u{i}@example.com,First{i},Last{i}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def test_import_speed_is_measured_on_imports_of_a_thousand_rows_or_more(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    assert admin.token is not None
    assert (await admin.data(SPEED))["importSpeed"] == {
        "rowsPerSecond": None,
        "dryRunRowsPerSecond": None,
        "importsMeasured": 0,
    }
    # Too small to say anything of the speed.
    await import_csv(client, admin, admin.token, db_url, users_csv(10))
    assert (await admin.data(SPEED))["importSpeed"]["importsMeasured"] == 0
    dry = await import_csv(client, admin, admin.token, db_url, users_csv(1200), dryRun="true")
    assert dry["status"] == "SUCCEEDED", dry
    speed: dict[str, Any] = (await admin.data(SPEED))["importSpeed"]
    assert speed["importsMeasured"] == 1
    assert speed["rowsPerSecond"] is None and speed["dryRunRowsPerSecond"] > 0
    applied = await import_csv(client, admin, admin.token, db_url, users_csv(1200))
    assert applied["status"] == "SUCCEEDED", applied
    speed = (await admin.data(SPEED))["importSpeed"]
    assert speed["importsMeasured"] == 2 and speed["rowsPerSecond"] > 0


async def test_a_job_says_who_started_it(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    assert admin.token is not None
    await import_csv(client, admin, admin.token, db_url, users_csv(2))
    [edge] = (await admin.data(JOBS))["jobs"]["edges"]
    assert edge["node"] == {"startedBy": "admin token", "dryRun": False}


async def test_an_import_tells_the_planner_how_many_users_there_are_now(
    client: httpx.AsyncClient, admin: Api, db_url: str
) -> None:
    # Planned while the table was near empty, the look-up of stored users slowed as the import
    # grew it (100,000 rows took 274 s instead of 15 where autovacuum is off): the import
    # refreshes the table's statistics itself, once it has created a chunk's worth of users.
    assert await fetchval(db_url, RELTUPLES) < 1
    assert admin.token is not None
    job = await import_csv(client, admin, admin.token, db_url, users_csv(ANALYZE_AFTER * 2 + 100))
    assert job["status"] == "SUCCEEDED" and job["created"] == ANALYZE_AFTER * 2 + 100
    assert await fetchval(db_url, RELTUPLES) >= ANALYZE_AFTER

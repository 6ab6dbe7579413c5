"""`roster import` and `roster export` as an operator runs them: subprocesses, with a worker
process running the jobs."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from strawberry import relay

from tests.conftest import REDIS_URL, Api, Tenant
from tests.test_cli import Result, roster_command
from tests.test_exports import JOB
from tests.test_imports import sql, start_worker, stop

PEOPLE = (
    "email,first_name,last_name,roles\n"
    "ana@example.com,Ana,García,learningcloud:teacher\n"
    "bob@example.com,Bob,=1+1,\n"
)


async def roster(db_url: str, *args: str) -> Result:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL}
    process = await asyncio.create_subprocess_exec(
        *roster_command(),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


@pytest.fixture
def worker(db_url: str, redis: object, tmp_path: Path) -> Iterator[None]:
    with open(tmp_path / "worker.log", "wb") as log:
        process = start_worker(db_url, log)
        try:
            yield
        finally:
            stop(process)


async def test_import_then_export(db_url: str, acme: Tenant, worker: None, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(PEOPLE, encoding="utf-8")

    dry = await roster(db_url, "import", "--tenant", "acme", str(source), "--dry-run")
    assert dry.code == 0, dry
    assert "dry run: 2 rows: 2 created" in dry.err
    assert not await sql(db_url, "SELECT 1 FROM users")

    applied = await roster(db_url, "import", "--tenant", "acme", str(source))
    assert applied.code == 0, applied
    assert "2 rows: 2 created" in applied.err
    assert len(await sql(db_url, "SELECT 1 FROM users")) == 2
    actors = await sql(db_url, "SELECT DISTINCT actor FROM jobs")
    assert [a["actor"].startswith("cli:") for a in actors] == [True]

    out = tmp_path / "export.csv"
    exported = await roster(
        db_url, "export", "--tenant", "acme", "--search", "garcia", "--out", str(out)
    )
    assert exported.code == 0, exported
    assert "1 users written" in exported.err
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert b'"ana@example.com"' in out.read_bytes() and b"bob" not in out.read_bytes()

    everyone = await roster(
        db_url, "export", "--tenant", "acme", "--columns", "email,last_name", "--out", str(out)
    )
    assert everyone.code == 0, everyone
    assert out.read_bytes() == (
        b'\xef\xbb\xbf"email","last_name"\r\n"ana@example.com","Garc\xc3\xada"\r\n'
        b'"bob@example.com","\'=1+1"\r\n'
    )
    events = await sql(db_url, "SELECT actor FROM events WHERE action = 'export.started'")
    assert len(events) == 2 and all(e["actor"].startswith("cli:") for e in events)


async def test_a_failed_job_or_a_refusal_exits_non_zero(
    db_url: str, acme: Tenant, worker: None, tmp_path: Path
) -> None:
    not_csv = tmp_path / "photo.csv"
    not_csv.write_bytes(b"name,age\nana,3\n")
    failed = await roster(db_url, "import", "--tenant", "acme", str(not_csv))
    assert failed.code == 1, failed
    assert "ended FAILED" in failed.err and "Unknown column 'age'" in failed.err

    refused = await roster(
        db_url, "export", "--tenant", "acme", "--columns", "password", "--out", "x.csv"
    )
    assert refused.code == 2, refused
    assert "NOT_EXPORTABLE" in refused.err
    unknown = await roster(db_url, "export", "--tenant", "nope", "--out", "x.csv")
    assert unknown.code == 1 and "no tenant 'nope'" in unknown.err


async def test_help_says_a_worker_is_needed(db_url: str) -> None:
    for command in ("export", "import"):
        shown = await roster(db_url, command, "--help")
        assert shown.code == 0
        assert "roster worker" in shown.out


async def test_an_export_no_token_started_offers_no_link(
    db_url: str, admin: Api, worker: None, tmp_path: Path
) -> None:
    # A signed link lives as long as the token that started the export; `roster export` used
    # none, so the API offers no link that could only answer 403 (the file still downloads
    # with an Authorization header).
    out = tmp_path / "export.csv"
    exported = await roster(db_url, "export", "--tenant", "acme", "--out", str(out))
    assert exported.code == 0, exported
    [row] = await sql(db_url, "SELECT id FROM jobs WHERE kind = 'EXPORT'")
    job = (await admin.data(JOB, id=relay.to_base64("ExportJob", row["id"])))["job"]
    assert job["status"] == "SUCCEEDED" and job["expiresAt"] is not None
    assert job["downloadUrl"] is None

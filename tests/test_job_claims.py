"""db/jobs.py's claims of an import's in-file keys against a real database, with a second
claimant at the same time (a worker fenced out of the job that has not stopped yet)."""

import asyncio
from uuid import uuid4

from db import jobs
from db.pool import connect
from tests.conftest import Tenant

WAITING = """
SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')
"""


async def test_a_key_claimed_between_the_probe_and_the_insert_is_found(
    db_url: str, acme: Tenant
) -> None:
    job_id = uuid4()
    fenced_out, worker = await connect(db_url), await connect(db_url)
    try:
        worker_pid = await worker.fetchval("SELECT pg_backend_pid()")
        async with fenced_out.transaction():
            assert (
                await jobs.claim_keys(fenced_out, acme.id, job_id, [("su", "ann", 2, "ann")]) == {}
            )
            # The worker's probe does not see the uncommitted claim; its insert waits on it.
            claim = asyncio.ensure_future(
                jobs.claim_keys(
                    worker, acme.id, job_id, [("su", "bob", 3, "bob"), ("su", "ann", 4, "ann")]
                )
            )
            for _ in range(500):
                if await fenced_out.fetchval(WAITING, worker_pid):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the second claim never waited on the first")
        # Row 4 repeats row 2: the claim says so, and both keys are kept once.
        assert await claim == {("su", "ann"): (2, "ann")}
        kept = await worker.fetch(
            "SELECT key, row FROM job_keys WHERE job_id = $1 ORDER BY key", job_id
        )
        assert [(r["key"], r["row"]) for r in kept] == [("ann", 2), ("bob", 3)]
    finally:
        await fenced_out.close()
        await worker.close()

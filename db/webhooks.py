"""Webhook deliveries: the outbox the events fill, the deliveries made from it, claiming what is
due (a lease, committed before anything is sent), recording what the receiver answered, and
deleting finished deliveries once they are old."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from asyncpg import Record

from db.pool import Conn

# Every organisation with queued events: a loose index scan, in 0018's function.
OUTBOX_TENANTS = "SELECT tenant_id FROM roster_outbox_tenants() AS tenant_id"
# One dispatcher per tenant at a time, so that a tenant's events become deliveries in order.
TRY_LOCK_TENANT_OUTBOX = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended('webhook_outbox:' || $1, 0))"
)
TAKE_OUTBOX = """
WITH taken AS (
    DELETE FROM webhook_outbox
    WHERE tenant_id = $1 AND event_id IN (
        SELECT event_id FROM webhook_outbox WHERE tenant_id = $1
        ORDER BY event_id LIMIT $2
    )
    RETURNING event_id, platform_ids
)
SELECT e.id, e.action, e.target_id, e.data, taken.platform_ids
FROM taken JOIN events e ON e.tenant_id = $1 AND e.id = taken.event_id
ORDER BY e.id
"""
LISTENING_PLATFORMS = """
SELECT id FROM platforms
WHERE tenant_id = $1 AND webhook_url IS NOT NULL AND webhook_disabled_at IS NULL
"""
# Only the table's owner may (0018's function).
ANALYZE_DELIVERIES = "SELECT roster_analyze_deliveries()"
INSERT_DELIVERIES = """
INSERT INTO webhook_deliveries (tenant_id, event_id, action, user_id, platform_id)
SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::uuid[], $5::uuid[])
ON CONFLICT DO NOTHING
"""
INSERT_TEST = """
INSERT INTO webhook_deliveries (tenant_id, platform_id, action) VALUES ($1, $2, $3)
RETURNING *
"""
# Every organisation's (0018).
DUE_PLATFORMS = "SELECT tenant_id, id FROM roster_due_platforms()"
SENDING_PLATFORM = """
SELECT p.tenant_id, p.id, p.webhook_url, p.webhook_secret, p.webhook_previous_secret,
       p.webhook_previous_secret_until > now() AS previous_valid, p.webhook_batch_size,
       t.slug AS tenant
FROM platforms p JOIN tenants t ON t.id = p.tenant_id
WHERE p.tenant_id = $1 AND p.id = $2 AND p.webhook_url IS NOT NULL
    AND p.webhook_disabled_at IS NULL
"""
# Only the first pending delivery of each user on the platform: a later event waits behind an
# earlier one that is failing, or in flight. A claimed delivery is leased: its next attempt is
# moved past the end of this one (deadline and a margin), so that no other worker takes it
# meanwhile, and one killed mid-send leaves it to be retried when the lease ends; rows another
# claim is taking are skipped. The first of a user's is looked up row by row (a subquery, not an
# anti-join): planned on a queue just filled, with statistics saying it is empty, the anti-join
# compared every pending row with every other, and asyncpg kept that plan for good.
CLAIM_DUE = """
WITH due AS (
    SELECT d.id
    FROM webhook_deliveries d
    WHERE d.tenant_id = $1 AND d.platform_id = $2 AND d.status = 'PENDING'
        AND d.next_attempt_at <= now()
        AND (d.user_id IS NULL OR d.event_id = (
            SELECT e.event_id FROM webhook_deliveries e
            WHERE e.tenant_id = d.tenant_id AND e.platform_id = d.platform_id
                AND e.user_id = d.user_id AND e.status = 'PENDING'
            ORDER BY e.event_id
            LIMIT 1
        ))
    ORDER BY d.next_attempt_at
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $4)
FROM due
WHERE d.tenant_id = $1 AND d.id = due.id
RETURNING d.id, d.event_id, d.action, d.user_id, d.attempts, d.retry_from,
    d.next_attempt_at AS leased_until
"""
GET_EVENTS = """
SELECT id, created_at, data FROM events WHERE tenant_id = $1 AND id = ANY($2::bigint[])
"""
GET_USERS = "SELECT * FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])"
# Each user's roles by the primary key (tenant_id, user_id, ...), the platform filtered outside
# (OFFSET 0 keeps the filter out of the look-up): user_roles grows unanalysed during an import,
# and with the platform in the look-up the planner took the platform's index (tenant_id,
# platform_id, role, user_id), reading every role of the platform for each user: 18.6 ms for a
# batch of 10 users during an import of 60,000 (0.07 ms this way), which held deliveries during
# an import to 41% of a bare loop's speed.
ROLES_ON_PLATFORM = """
SELECT r.user_id, r.role FROM unnest($3::uuid[]) AS u(id) CROSS JOIN LATERAL (
    SELECT user_id, platform_id, role FROM user_roles WHERE tenant_id = $1 AND user_id = u.id
    OFFSET 0
) r
WHERE r.platform_id = $2
"""
# Only while the lease is the claim's own: a delivery redelivered meanwhile, or claimed again
# after a lease that ran out, belongs to that later attempt.
RECORD_ATTEMPTS = """
UPDATE webhook_deliveries d SET
    status = r.status, attempts = d.attempts + 1, next_attempt_at = r.next_attempt_at,
    last_attempt_at = now(), last_status_code = r.code, last_error = r.error,
    last_latency_ms = r.latency_ms,
    delivered_at = CASE WHEN r.status = 'SUCCEEDED' THEN now() END
FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::int[],
            $8::timestamptz[])
    AS r(id, status, next_attempt_at, code, error, latency_ms, leased_until)
WHERE d.tenant_id = $1 AND d.id = r.id AND d.status = 'PENDING'
    AND d.next_attempt_at = r.leased_until
"""
DISABLE_WEBHOOK = """
UPDATE platforms SET webhook_disabled_at = now(), webhook_disabled_reason = $3
WHERE tenant_id = $1 AND id = $2
"""
ENABLE_WEBHOOK = """
UPDATE platforms SET webhook_disabled_at = NULL, webhook_disabled_reason = NULL
WHERE tenant_id = $1 AND id = $2
"""
ROTATE_SECRET = """
UPDATE platforms SET webhook_previous_secret = webhook_secret,
    webhook_previous_secret_until = now() + make_interval(secs => $4),
    webhook_secret = $3, updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND webhook_secret IS NOT NULL
RETURNING *
"""
LIST_DELIVERIES = """
SELECT * FROM webhook_deliveries
WHERE tenant_id = $1 AND ($2::bigint IS NULL OR seq < $2)
    AND ($3::uuid IS NULL OR platform_id = $3) AND ($4::text IS NULL OR status = $4)
    AND ($5::uuid IS NULL OR user_id = $5)
ORDER BY seq DESC
LIMIT $6
"""
# One sendTestWebhook at a time per platform, so that the count below is the one the insert
# follows.
LOCK_TEST_PINGS = "SELECT pg_advisory_xact_lock(hashtextextended('webhook_test:' || $1, 0))"
# Test pings are the only deliveries without an event: the unique index finds them.
RECENT_TEST_PINGS = """
SELECT count(*) AS sent,
    extract(epoch FROM min(created_at) + make_interval(secs => $3) - now()) AS wait
FROM webhook_deliveries
WHERE tenant_id = $1 AND event_id IS NULL AND platform_id = $2
    AND created_at > now() - make_interval(secs => $3)
"""
# The oldest finished deliveries first, a batch at a time, of every organisation (0018's
# function, over 0015's index); rows another worker is deleting are left to it.
DELETE_FINISHED = "SELECT roster_delete_finished_deliveries($1, $2)"
REDELIVER = """
UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), retry_from = now()
WHERE tenant_id = $1 AND id = $2
RETURNING *
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What became of one attempt at a delivery."""

    delivery_id: UUID
    status: str
    next_attempt_at: datetime
    code: int | None
    error: str | None
    latency_ms: int
    # The lease its claim took (claim_due): recorded only while it still holds.
    leased_until: datetime


async def outbox_tenants(conn: Conn) -> list[UUID]:
    """Every organisation with queued events."""
    return [r["tenant_id"] for r in await conn.fetch(OUTBOX_TENANTS)]


async def try_lock_tenant_outbox(conn: Conn, tenant_id: UUID) -> bool:
    """Within a transaction: whether this dispatcher may take the tenant's queued events."""
    locked: bool = await conn.fetchval(TRY_LOCK_TENANT_OUTBOX, str(tenant_id))
    return locked


async def take_outbox(conn: Conn, tenant_id: UUID, limit: int) -> list[Record]:
    """Removes up to `limit` of the tenant's queued events, oldest first, and returns them with
    the platforms their user had a role on when each was written."""
    return await conn.fetch(TAKE_OUTBOX, tenant_id, limit)


async def listening_platforms(conn: Conn, tenant_id: UUID) -> set[UUID]:
    return {r["id"] for r in await conn.fetch(LISTENING_PLATFORMS, tenant_id)}


async def insert_deliveries(
    conn: Conn, tenant_id: UUID, rows: Sequence[tuple[int, str, UUID, UUID]]
) -> None:
    """(event id, action, user id, platform id) each."""
    if rows:
        columns = list(zip(*rows, strict=True))
        await conn.execute(INSERT_DELIVERIES, tenant_id, *map(list, columns))


async def insert_test_delivery(
    conn: Conn, tenant_id: UUID, platform_id: UUID, action: str
) -> Record:
    row = await conn.fetchrow(INSERT_TEST, tenant_id, platform_id, action)
    assert row is not None
    return row


async def due_platforms(conn: Conn) -> list[Record]:
    """The webhooks (tenant_id, id) with a delivery due, of every organisation."""
    return await conn.fetch(DUE_PLATFORMS)


async def sending_platform(conn: Conn, tenant_id: UUID, platform_id: UUID) -> Record | None:
    """What sending to the platform's webhook needs; None once it has none, or it is
    disabled."""
    return await conn.fetchrow(SENDING_PLATFORM, tenant_id, platform_id)


async def claim_due(
    conn: Conn, tenant_id: UUID, platform_id: UUID, limit: int, lease_seconds: float
) -> list[Record]:
    """Leases up to `limit` deliveries due to the platform for `lease_seconds`: nobody else
    claims them until then, or until their attempt is recorded. Commit it before sending."""
    return await conn.fetch(CLAIM_DUE, tenant_id, platform_id, limit, lease_seconds)


async def get_events(conn: Conn, tenant_id: UUID, ids: Sequence[int]) -> dict[int, Record]:
    return {r["id"]: r for r in await conn.fetch(GET_EVENTS, tenant_id, ids)}


async def get_users(conn: Conn, tenant_id: UUID, ids: Sequence[UUID]) -> dict[UUID, Record]:
    return {r["id"]: r for r in await conn.fetch(GET_USERS, tenant_id, ids)}


async def roles_on_platform(
    conn: Conn, tenant_id: UUID, platform_id: UUID, user_ids: Sequence[UUID]
) -> dict[UUID, list[str]]:
    roles: dict[UUID, list[str]] = {}
    for r in await conn.fetch(ROLES_ON_PLATFORM, tenant_id, platform_id, user_ids):
        roles.setdefault(r["user_id"], []).append(r["role"])
    return roles


async def record_attempts(conn: Conn, tenant_id: UUID, attempts: Sequence[Attempt]) -> None:
    await conn.execute(
        RECORD_ATTEMPTS,
        tenant_id,
        [a.delivery_id for a in attempts],
        [a.status for a in attempts],
        [a.next_attempt_at for a in attempts],
        [a.code for a in attempts],
        [a.error for a in attempts],
        [a.latency_ms for a in attempts],
        [a.leased_until for a in attempts],
    )


async def disable_webhook(conn: Conn, tenant_id: UUID, platform_id: UUID, reason: str) -> None:
    await conn.execute(DISABLE_WEBHOOK, tenant_id, platform_id, reason)


async def enable_webhook(conn: Conn, tenant_id: UUID, platform_id: UUID) -> None:
    await conn.execute(ENABLE_WEBHOOK, tenant_id, platform_id)


async def rotate_secret(
    conn: Conn, tenant_id: UUID, platform_id: UUID, secret: str, overlap_seconds: float
) -> Record | None:
    """The platform with its new secret, the old one honoured for `overlap_seconds`; None when
    it has no webhook (or does not exist)."""
    return await conn.fetchrow(ROTATE_SECRET, tenant_id, platform_id, secret, overlap_seconds)


async def list_deliveries(
    conn: Conn,
    tenant_id: UUID,
    *,
    before_seq: int | None,
    platform_id: UUID | None,
    status: str | None,
    user_id: UUID | None,
    limit: int,
) -> list[Record]:
    """Newest first, keyset-paged on the creation order."""
    return await conn.fetch(
        LIST_DELIVERIES, tenant_id, before_seq, platform_id, status, user_id, limit
    )


async def lock_test_pings(conn: Conn, platform_id: UUID) -> None:
    """Within a transaction: until it ends, no other sendTestWebhook to the platform."""
    await conn.execute(LOCK_TEST_PINGS, str(platform_id))


async def recent_test_pings(
    conn: Conn, tenant_id: UUID, platform_id: UUID, window: float
) -> tuple[int, float]:
    """The test pings to the platform in the last `window` seconds, and the seconds until the
    oldest of them leaves the window."""
    row = await conn.fetchrow(RECENT_TEST_PINGS, tenant_id, platform_id, window)
    assert row is not None
    return row["sent"], float(row["wait"] or 0)


async def delete_finished(conn: Conn, older_than: float, limit: int) -> int:
    """Deletes up to `limit` finished (SUCCEEDED, FAILED) deliveries of any organisation whose
    last attempt is more than `older_than` seconds old; returns how many."""
    deleted: int = await conn.fetchval(DELETE_FINISHED, older_than, limit)
    return deleted


async def redeliver(conn: Conn, tenant_id: UUID, delivery_id: UUID) -> Record | None:
    """Queues the delivery again, now, with a fresh retry window; same webhook-id."""
    return await conn.fetchrow(REDELIVER, tenant_id, delivery_id)


async def analyze_deliveries(conn: Conn) -> None:
    """Fresh statistics of the deliveries table, for the planner."""
    await conn.execute(ANALYZE_DELIVERIES)

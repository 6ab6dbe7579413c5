"""Setting a password through the link of a welcome e-mail: what the link is worth, and the
attempt itself, each recorded as an event. The page around it is roster/set_password.py."""

from concurrent.futures import Executor
from dataclasses import dataclass
from uuid import UUID

from asyncpg import Pool

from db import emails, events, tenants, users
from db.events import Actor
from rules import events as vocabulary
from rules.passwords import check_password_off_loop, hash_password
from rules.welcome import language_of, token_hash

# The actor of what a user does through their link: no token, the user themself.
LINK_ACTOR = Actor(token_id=None, name="set-password-link")

VALID = "VALID"
UNKNOWN = "LINK_UNKNOWN"
EXPIRED = "LINK_EXPIRED"
USED = "LINK_USED"
DISABLED = "USER_DISABLED"


@dataclass(frozen=True, slots=True)
class Link:
    """What a link is worth now. `state` is VALID or why it is not; the rest is None for an
    unknown link."""

    state: str
    tenant_id: UUID | None = None
    user_id: UUID | None = None
    username: str = ""
    email: str = ""
    language: str | None = None
    min_length: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    code: str | None = None
    message: str | None = None


async def find_link(pool: Pool, token: str) -> Link:
    async with pool.acquire() as conn:
        row = await emails.find_token(conn, token_hash(token)) if token else None
        if row is None:
            return Link(UNKNOWN)
        tenant = await tenants.get_tenant(conn, row["tenant_id"])
    assert tenant is not None
    if row["used_at"] is not None:
        state = USED
    elif row["expired"]:
        state = EXPIRED
    elif row["status"] != "ACTIVE":
        state = DISABLED
    else:
        state = VALID
    return Link(
        state=state,
        tenant_id=row["tenant_id"],
        user_id=row["user_id"],
        username=row["username"],
        email=row["email"],
        language=language_of(row["language"]),
        min_length=tenant["min_password_length"],
    )


async def record_failure(pool: Pool, link: Link, reason: str) -> None:
    """A refused attempt on a link that names a user (an unknown link names nobody)."""
    if link.tenant_id is None or link.user_id is None:
        return
    async with pool.acquire() as conn:
        await events.record_events(
            conn,
            link.tenant_id,
            LINK_ACTOR,
            [(link.user_id, vocabulary.user_password_set_failed(reason))],
        )


async def set_password_by_link(
    pool: Pool, executor: Executor, token: str, password: str, confirmation: str
) -> Outcome:
    """Sets the password of the link's user, by the policy setPassword applies, and spends the
    link; every refusal is recorded as an event."""
    link = await find_link(pool, token)
    if link.state != VALID:
        await record_failure(pool, link, link.state)
        return Outcome(ok=False, code=link.state)
    if password != confirmation:
        await record_failure(pool, link, "PASSWORDS_DIFFER")
        return Outcome(ok=False, code="PASSWORDS_DIFFER")
    violation = await check_password_off_loop(
        executor, password, min_length=link.min_length, username=link.username, email=link.email
    )
    if violation is not None:
        await record_failure(pool, link, violation.code)
        return Outcome(ok=False, code=violation.code, message=violation.message)
    password_hash = await hash_password(executor, password)
    assert link.tenant_id is not None and link.user_id is not None
    async with pool.acquire() as conn, conn.transaction():
        # Spent in the same transaction as the password is set: two submissions at once set
        # it once.
        spent = await emails.use_token(conn, token_hash(token))
        if spent is None:
            return Outcome(ok=False, code=USED)
        await users.set_password_hash(conn, link.tenant_id, link.user_id, password_hash)
        await events.record_events(
            conn, link.tenant_id, LINK_ACTOR, [(link.user_id, vocabulary.user_password_set())]
        )
    return Outcome(ok=True)

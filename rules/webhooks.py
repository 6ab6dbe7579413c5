"""Webhook rules shared by the API and the delivery worker, without I/O: which events reach which
platforms, what a receiver gets, how it is signed (Standard Webhooks), how retries are spaced."""

import base64
import binascii
import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from rules import events
from rules.identifiers import has_refused
from rules.ids import encode_id
from rules.userfields import TEXT_FIELDS, camel

SECRET_PREFIX = "whsec_"
# After rotateWebhookSecret, deliveries carry the old secret's signature too for this long, so
# a receiver can switch to the new secret at its own pace.
SECRET_OVERLAP_SECONDS = 24 * 3600
TEST_ACTION = "webhook.test"
# sendTestWebhook: at most this many pings to one platform in this many seconds. A ping is a
# request Roster makes on an administrator's word: unlimited, they were a way to flood a
# receiver (250 in 16 s) and the worker's lanes with it.
TEST_PINGS = 5
TEST_PING_WINDOW = 60.0

# What an attempt that did not succeed shows in webhookDeliveries (`lastError`): a category,
# never a library's text, which named the hosts and ports it reached and how they answered.
TIMEOUT = "timeout"
REFUSED_ADDRESS = "refused address"
CONNECTION_FAILED = "connection failed"

# What matters to an app (DESIGN.md, propagation). A password or a welcome e-mail is Roster's
# business alone.
DELIVERED_ACTIONS = frozenset(
    (
        events.USER_CREATED,
        events.USER_UPDATED,
        events.USER_ROLES_CHANGED,
        events.USER_ENABLED,
        events.USER_DISABLED,
        events.USER_DELETED,
    )
)
# The user's data as the API names it; roles travel separately, and only the receiver's own.
USER_COLUMNS = (*TEXT_FIELDS, "status", "attributes")


def new_secret() -> str:
    # Standard Webhooks: "whsec_" and the base64 of the key (24 to 64 bytes).
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def url_problem(url: str) -> str | None:
    """Why `url` cannot receive webhooks, or None: http(s) only, with a host, and no credentials
    in it (they would show wherever the URL does)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"{url!r} is not a URL."
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(url) > 2000
        or has_refused(url)
    ):
        return f"{url!r} is not an http(s) URL."
    if parts.username is not None or parts.password is not None:
        return "A webhook URL may not hold credentials: the signature authenticates Roster."
    return None


def http_status_error(code: int) -> str:
    """The category of an answer that is not a 2xx: its status."""
    return f"HTTP {code}"


def platforms_to_reach(action: str, data: Mapping[str, Any], current: Iterable[UUID]) -> set[UUID]:
    """The platforms an event about a user goes to: those the user has a role on (`current`),
    and those it had, for a role removal or a deletion (the event names them)."""
    if action not in DELIVERED_ACTIONS:
        return set()
    reached = set(current)
    if action == events.USER_DELETED:
        named = list(data.get("platforms", []))
    elif action == events.USER_ROLES_CHANGED:
        named = [r["platform"] for r in data.get("removed", [])]
    else:
        named = []
    reached.update(p for p in map(_platform_uuid, named) if p is not None)
    return reached


def webhook_id(delivery_ids: Sequence[UUID]) -> str:
    """The receiver's idempotency key: the same on every attempt of the same delivery (of the
    same batch)."""
    if len(delivery_ids) == 1:
        return f"msg_{delivery_ids[0].hex}"
    joined = ",".join(sorted(d.hex for d in delivery_ids)).encode()
    return f"msg_batch_{hashlib.sha256(joined).hexdigest()[:32]}"


def message(
    *,
    delivery_id: UUID,
    event_id: int | None,
    action: str,
    created_at: datetime,
    tenant: str,
    user_id: UUID | None,
    user: Mapping[str, Any] | None,
    roles: Sequence[str],
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """What a receiver gets for one delivery. `user`: the user's row as it is now, None once
    deleted (a `user.deleted` carries ids only). `roles`: the user's roles on the receiver."""
    body: dict[str, Any] = {
        "id": webhook_id([delivery_id]),
        "event": str(event_id) if event_id is not None else None,
        "type": action,
        "timestamp": created_at.isoformat(),
        "tenant": tenant,
        "data": dict(data),
    }
    if user_id is not None:
        body["userId"] = encode_id(events.USER, user_id)
        body["user"] = None
        if user is not None and action != events.USER_DELETED:
            body["user"] = {camel(c): user[c] for c in USER_COLUMNS} | {"roles": sorted(roles)}
    return body


def sign(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<base64 HMAC-SHA256>` per secret, space-separated
    (two while a rotated secret is still honoured)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    out = []
    for secret in secrets_:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        out.append("v1," + base64.b64encode(digest).decode())
    return " ".join(out)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling from `base` up to
    `cap`, with jitter over the upper half so that many failures do not retry in step."""
    ceiling = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return ceiling / 2 + random.random() * ceiling / 2


def _platform_uuid(global_id: str) -> UUID | None:
    try:
        type_name, _, row_id = base64.b64decode(global_id).decode().partition(":")
        return UUID(row_id) if type_name == events.PLATFORM else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None

"""The event vocabulary: every event's action, target type and payload (docs/events.md).

Events are the audit log and the webhook outbox, so each payload is a contract: the same change
gives the same event whichever path made it (the API, an import). Only the actor, a column of
its own, differs, and `job`: the global id of the job that made the change, present only when a
job made it. Users, platforms and jobs appear by the global ids the API uses; payloads name
fields, never their values, and so hold no personal data.
"""

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from rules.ids import encode_id
from rules.userfields import TEXT_FIELDS, camel

USER = "User"
PLATFORM = "Platform"
IMPORT_JOB = "ImportJob"
REVERT_JOB = "RevertJob"
EMAIL_JOB = "EmailJob"
EXPORT_JOB = "ExportJob"
API_TOKEN = "ApiToken"
CONSOLE_LINK = "ConsoleLink"

USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_ROLES_CHANGED = "user.roles_changed"
USER_PASSWORD_SET = "user.password_set"
USER_ENABLED = "user.enabled"
USER_DISABLED = "user.disabled"
USER_DELETED = "user.deleted"
USER_WELCOME_EMAIL_REQUESTED = "user.welcome_email_requested"
USER_WELCOME_EMAIL_SENT = "user.welcome_email_sent"
USER_WELCOME_EMAIL_FAILED = "user.welcome_email_failed"
USER_PASSWORD_SET_FAILED = "user.password_set_failed"
PLATFORM_CREATED = "platform.created"
PLATFORM_UPDATED = "platform.updated"
PLATFORM_DELETED = "platform.deleted"
IMPORT_STARTED = "import.started"
EXPORT_STARTED = "export.started"
EXPORT_DOWNLOADED = "export.downloaded"
JOB_CANCEL_REQUESTED = "job.cancel_requested"
TOKEN_CREATED = "token.created"
CONSOLE_LINK_CREATED = "console.link_created"
CONSOLE_SIGNED_IN = "console.signed_in"
CONSOLE_SIGNED_OUT = "console.signed_out"
# Every action, in the order docs/events.md lists them: what the audit log can be narrowed to.
ACTIONS = (
    USER_CREATED,
    USER_UPDATED,
    USER_ROLES_CHANGED,
    USER_PASSWORD_SET,
    USER_ENABLED,
    USER_DISABLED,
    USER_DELETED,
    USER_WELCOME_EMAIL_REQUESTED,
    USER_WELCOME_EMAIL_SENT,
    USER_WELCOME_EMAIL_FAILED,
    USER_PASSWORD_SET_FAILED,
    PLATFORM_CREATED,
    PLATFORM_UPDATED,
    PLATFORM_DELETED,
    IMPORT_STARTED,
    EXPORT_STARTED,
    EXPORT_DOWNLOADED,
    JOB_CANCEL_REQUESTED,
    TOKEN_CREATED,
    CONSOLE_LINK_CREATED,
    CONSOLE_SIGNED_IN,
    CONSOLE_SIGNED_OUT,
)

# The fields of a profile that `user.created` and `user.updated` name; a user's status and
# password change through events of their own.
PROFILE_FIELDS = frozenset((*TEXT_FIELDS, "attributes"))


class Event(NamedTuple):
    """What to record about one target: the action, the target's type, the payload."""

    action: str
    target_type: str
    data: dict[str, Any]


def user_created(
    fields: Mapping[str, Any],
    roles: Iterable[tuple[UUID, str]],
    *,
    password_set: bool,
    job: str | None = None,
) -> Event:
    """`fields`: the new user's values by column name; those left empty are not named.
    `roles`: (platform id, role) pairs."""
    data = {
        "fields": list(_profile_names(tuple([name for name, value in fields.items() if value]))),
        "roles": _grants(roles),
        "passwordSet": password_set,
    }
    return _event(USER_CREATED, USER, data, job)


def user_updated(changed: Iterable[str], job: str | None = None) -> Event:
    """`changed`: the column names of the profile fields whose value changed."""
    return _event(USER_UPDATED, USER, {"changed": list(_profile_names(tuple(changed)))}, job)


def user_roles_changed(
    added: Iterable[tuple[UUID, str]], removed: Iterable[tuple[UUID, str]], job: str | None = None
) -> Event:
    return _event(
        USER_ROLES_CHANGED, USER, {"added": _grants(added), "removed": _grants(removed)}, job
    )


def user_password_set(job: str | None = None) -> Event:
    return _event(USER_PASSWORD_SET, USER, {}, job)


def user_enabled(job: str | None = None) -> Event:
    return _event(USER_ENABLED, USER, {}, job)


def user_disabled(job: str | None = None) -> Event:
    return _event(USER_DISABLED, USER, {}, job)


def user_deleted(platforms: Iterable[UUID], job: str | None = None) -> Event:
    """`platforms`: those the user had roles on, which the deletion must reach. Ids only: the
    user's personal data is gone with the user."""
    ids = sorted({_platform_id(p) for p in platforms})
    return _event(USER_DELETED, USER, {"platforms": ids}, job)


def user_welcome_email_requested(job: str | None = None) -> Event:
    return _event(USER_WELCOME_EMAIL_REQUESTED, USER, {}, job)


def user_welcome_email_sent(job: str) -> Event:
    """`job`: the EmailJob that sent it; the SMTP server accepted the message."""
    return _event(USER_WELCOME_EMAIL_SENT, USER, {}, job)


def user_welcome_email_failed(reason: str, job: str) -> Event:
    """`reason`: the row error's code (SMTP_REFUSED, SMTP_UNAVAILABLE, DELIVERY_UNKNOWN)."""
    return _event(USER_WELCOME_EMAIL_FAILED, USER, {"reason": reason}, job)


def user_password_set_failed(reason: str) -> Event:
    """A refused attempt on the set-password page: `reason` is the policy's code
    (PASSWORD_TOO_SHORT, …), PASSWORDS_DIFFER, or the link's (LINK_EXPIRED, LINK_USED,
    USER_DISABLED, RATE_LIMITED)."""
    return Event(USER_PASSWORD_SET_FAILED, USER, {"reason": reason})


def user_creation(
    fields: Mapping[str, Any],
    roles: Iterable[tuple[UUID, str]],
    *,
    password_set: bool,
    welcome_email: bool,
    disabled: bool = False,
    job: str | None = None,
) -> list[Event]:
    """The events of a new user, in order: created, the welcome e-mail asked for, and disabled
    for one created disabled (as creating, then disabling it, would record)."""
    made = [user_created(fields, roles, password_set=password_set, job=job)]
    if welcome_email:
        made.append(user_welcome_email_requested(job))
    if disabled:
        made.append(user_disabled(job))
    return made


def user_changes(
    changed: Sequence[str],
    *,
    added: Sequence[tuple[UUID, str]] = (),
    removed: Sequence[tuple[UUID, str]] = (),
    status: str | None = None,
    job: str | None = None,
) -> list[Event]:
    """The events of one change to an existing user, in order: profile fields, roles,
    password, status. `changed`: the column names of what changed ("password" among them for
    a new password; "status" is ignored: `status` is the new one, when it changed)."""
    made = []
    if any(name in PROFILE_FIELDS for name in changed):
        made.append(user_updated(changed, job))
    if added or removed:
        made.append(user_roles_changed(added, removed, job))
    if "password" in changed:
        made.append(user_password_set(job))
    if status == "ACTIVE":
        made.append(user_enabled(job))
    elif status == "DISABLED":
        made.append(user_disabled(job))
    return made


def platform_created(key: str) -> Event:
    return Event(PLATFORM_CREATED, PLATFORM, {"key": key})


def platform_updated(changed: Iterable[str]) -> Event:
    """`changed`: the column names of what changed (key, aliases, name, roles, webhook_url)."""
    return Event(PLATFORM_UPDATED, PLATFORM, {"changed": sorted(camel(c) for c in changed)})


def platform_deleted(key: str, users_with_roles: int) -> Event:
    return Event(PLATFORM_DELETED, PLATFORM, {"key": key, "usersWithRoles": users_with_roles})


def import_started(dry_run: bool, options: Mapping[str, Any]) -> Event:
    """`options`: the job's options by their stored (snake_case) names."""
    data = {"dryRun": dry_run, "options": {camel(k): v for k, v in options.items()}}
    return Event(IMPORT_STARTED, IMPORT_JOB, data)


def export_started(
    *, selected: int | None, search: bool, filters: Iterable[str], columns: Sequence[str] | None
) -> Event:
    """`selected`: how many ids were given (None: no selection); `search`: whether a search
    text was; `filters`: the names (snake_case) of the filter fields given; `columns`: the ones
    asked for (None: the default). The search text itself is not kept: it may name a person."""
    data = {
        "selected": selected,
        "search": search,
        "filter": sorted(camel(f) for f in filters),
        "columns": list(columns) if columns is not None else None,
    }
    return Event(EXPORT_STARTED, EXPORT_JOB, data)


def export_downloaded(*, signed_link: bool) -> Event:
    """`signed_link`: fetched through the job's downloadUrl rather than with a token."""
    return Event(EXPORT_DOWNLOADED, EXPORT_JOB, {"signedLink": signed_link})


def job_cancel_requested(target_type: str = IMPORT_JOB) -> Event:
    """`target_type`: the job's type (ImportJob, EmailJob, ExportJob)."""
    return Event(JOB_CANCEL_REQUESTED, target_type, {})


def token_created(name: str, scope: str) -> Event:
    return Event(TOKEN_CREATED, API_TOKEN, {"name": name, "scope": scope})


def console_link_created(scope: str) -> Event:
    return Event(CONSOLE_LINK_CREATED, CONSOLE_LINK, {"scope": scope})


def console_signed_in(scope: str) -> Event:
    return Event(CONSOLE_SIGNED_IN, API_TOKEN, {"scope": scope})


def console_signed_out() -> Event:
    return Event(CONSOLE_SIGNED_OUT, API_TOKEN, {})


def _event(action: str, target_type: str, data: dict[str, Any], job: str | None) -> Event:
    if job is not None:
        data["job"] = job
    return Event(action, target_type, data)


@functools.lru_cache(maxsize=1024)
def _profile_names(names: tuple[str, ...]) -> tuple[str, ...]:
    # An import builds an event per row, and a file's rows set the same few sets of fields.
    return tuple(sorted(camel(name) for name in names if name in PROFILE_FIELDS))


@functools.lru_cache(maxsize=4096)
def _platform_id(platform_id: UUID) -> str:
    # An import names the same few platforms in thousands of events: each is encoded once.
    return encode_id(PLATFORM, platform_id)


def _grants(roles: Iterable[tuple[UUID, str]]) -> list[dict[str, str]]:
    pairs = sorted([(_platform_id(p), r) for p, r in roles])
    return [{"platform": platform, "role": role} for platform, role in pairs]

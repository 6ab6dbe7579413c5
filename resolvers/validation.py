"""Checks on what administrators type, turned into UserErrors with a path and a stable code."""

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from asyncpg import Record

from schema.errors import UserError
from schema.user import PlatformRoleInput

_LOCAL = r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
EMAIL_RE = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}")
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
PHONE_RE = re.compile(r"\+?[0-9 ().\-/]{3,32}(?: ?(?:x|ext\.?) ?[0-9]{1,6})?")

# (max length, whether it may be left empty) for each text field of a user.
TEXT_FIELDS: dict[str, tuple[int, bool]] = {
    "username": (254, False),
    "email": (254, False),
    "first_name": (100, False),
    "last_name": (100, False),
    "language": (35, True),
    "time_zone": (64, True),
    "office_phone": (40, True),
    "mobile_phone": (40, True),
    "location": (200, True),
    "external_id": (255, True),
}
MAX_ATTRIBUTES = 100


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _error(path: Sequence[str], message: str, code: str) -> UserError:
    return UserError(field=list(path), message=message, code=code)


def check_user_fields(
    fields: Mapping[str, Any], path: str = "input"
) -> tuple[dict[str, Any], list[UserError]]:
    """Cleans the user fields given (trimmed, empty optional text as None) and checks each;
    returns the cleaned fields and the errors."""
    cleaned: dict[str, Any] = {}
    errors: list[UserError] = []
    for name, value in fields.items():
        where = [path, camel(name)]
        if name == "attributes":
            if value is None:
                value = {}
            problem = _attributes_problem(value)
            if problem:
                errors.append(_error(where, problem, "INVALID_ATTRIBUTES"))
            cleaned[name] = value
            continue
        max_length, optional = TEXT_FIELDS[name]
        text = value.strip() if isinstance(value, str) else value
        if not text:
            if optional:
                cleaned[name] = None
            else:
                errors.append(_error(where, f"{camel(name)} cannot be empty.", "REQUIRED"))
            continue
        if len(text) > max_length:
            errors.append(_error(where, f"At most {max_length} characters.", "TOO_LONG"))
            continue
        wrong = _format_problem(name, text)
        if wrong:
            errors.append(_error(where, *wrong))
            continue
        cleaned[name] = text
    return cleaned, errors


def _format_problem(name: str, text: str) -> tuple[str, str] | None:
    if name == "email" and not EMAIL_RE.fullmatch(text):
        return f"{text!r} is not a valid e-mail address.", "INVALID_EMAIL"
    if name == "username" and any(c.isspace() or not c.isprintable() for c in text):
        return "A username cannot contain spaces or control characters.", "INVALID_USERNAME"
    if name == "language" and not LANGUAGE_RE.fullmatch(text):
        return f"{text!r} is not a language tag such as 'es' or 'en-GB'.", "INVALID_LANGUAGE"
    if name in ("office_phone", "mobile_phone") and not PHONE_RE.fullmatch(text):
        return f"{text!r} is not a phone number.", "INVALID_PHONE"
    if name == "time_zone":
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return (
                f"{text!r} is not an IANA time zone such as 'Europe/Madrid'.",
                "INVALID_TIME_ZONE",
            )
    return None


def _attributes_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "Attributes must be an object of string keys and string values."
    if len(value) > MAX_ATTRIBUTES:
        return f"At most {MAX_ATTRIBUTES} attributes."
    for key, item in value.items():
        if not key or len(key) > 100 or not isinstance(item, str) or len(item) > 2000:
            return (
                "Attributes must be string keys (1 to 100 characters) and string values "
                "(at most 2000 characters)."
            )
    return None


def resolve_roles(
    roles: Sequence[PlatformRoleInput], platforms: Sequence[Record], path: str = "input"
) -> tuple[list[tuple[UUID, str]], list[UserError]]:
    """(platform id, role) pairs for role inputs naming a platform by key or alias, each role
    one the platform accepts; duplicates are dropped."""
    by_name: dict[str, Record] = {}
    for p in platforms:
        for name in (p["key"], *p["aliases"]):
            by_name[name.lower()] = p
    resolved: list[tuple[UUID, str]] = []
    errors: list[UserError] = []
    for i, item in enumerate(roles):
        where = [path, "roles", str(i)]
        platform = by_name.get(item.platform.strip().lower())
        if platform is None:
            errors.append(
                _error(
                    [*where, "platform"],
                    f"There is no platform {item.platform!r}.",
                    "UNKNOWN_PLATFORM",
                )
            )
            continue
        accepted = {r.lower(): r for r in platform["roles"]}
        role = accepted.get(item.role.strip().lower())
        if role is None:
            errors.append(
                _error(
                    [*where, "role"],
                    f"{platform['name']} has no role {item.role!r}; it accepts: "
                    f"{', '.join(platform['roles'])}.",
                    "UNKNOWN_ROLE",
                )
            )
            continue
        if (platform["id"], role) not in resolved:
            resolved.append((platform["id"], role))
    return resolved, errors

"""Checks on what administrators type, turned into UserErrors with a path and a stable code."""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from asyncpg import Record

from rules.echoes import quoted
from rules.userfields import camel, check_field
from schema.errors import UserError
from schema.user import PlatformRoleInput


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
        value, problem = check_field(name, value)
        if problem is None:
            cleaned[name] = value
        else:
            errors.append(_error([path, camel(name)], problem.message, problem.code))
    return cleaned, errors


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
                    f"There is no platform {quoted(item.platform)}.",
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
                    f"{platform['name']} has no role {quoted(item.role)}; it accepts: "
                    f"{', '.join(platform['roles'])}.",
                    "UNKNOWN_ROLE",
                )
            )
            continue
        if (platform["id"], role) not in resolved:
            resolved.append((platform["id"], role))
    return resolved, errors

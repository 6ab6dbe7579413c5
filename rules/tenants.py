"""Rules for a tenant's settings, checked before anything is written. The database's CHECK
constraints hold the same rules, as a last line of defence."""

import re

from rules.passwords import MIN_LENGTH_CEILING, MIN_LENGTH_FLOOR

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def slug_problem(slug: str) -> str | None:
    if SLUG_RE.fullmatch(slug):
        return None
    return "the slug is 1 to 63 lower-case letters, digits and '-', not starting with '-'"


def min_password_length_problem(length: int) -> str | None:
    if MIN_LENGTH_FLOOR <= length <= MIN_LENGTH_CEILING:
        return None
    return f"the minimum password length is {MIN_LENGTH_FLOOR} to {MIN_LENGTH_CEILING}"

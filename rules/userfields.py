"""Rules for the fields of a user, shared by the API and the CSV import."""

import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    code: str


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_field(name: str, value: Any) -> tuple[Any, Problem | None]:
    """The cleaned value of one user field (text trimmed, empty optional text as None,
    attributes None as {}) and what is wrong with it, if anything."""
    if name == "attributes":
        value = {} if value is None else value
        problem = _attributes_problem(value)
        return value, Problem(problem, "INVALID_ATTRIBUTES") if problem else None
    max_length, optional = TEXT_FIELDS[name]
    text = value.strip() if isinstance(value, str) else value
    if not text:
        if optional:
            return None, None
        return None, Problem(f"{camel(name)} cannot be empty.", "REQUIRED")
    if len(text) > max_length:
        return text, Problem(f"At most {max_length} characters.", "TOO_LONG")
    wrong = _format_problem(name, text)
    return text, Problem(*wrong) if wrong else None


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
        # IsADirectoryError (an OSError) for the name of a folder of zones, such as "Europe".
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
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

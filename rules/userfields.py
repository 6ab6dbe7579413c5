"""Rules for the fields of a user, shared by the API and the CSV import."""

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.echoes import quoted
from rules.identifiers import (
    email_form,
    has_refused,
    has_refused_in_lines,
    nfc,
    skeleton,
    username_form,
    with_lf,
)

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
# The text fields meant to hold several lines (a postal address has them), stored with LF line
# ends; attribute values are multi-line too, their keys not. Every other field is one line.
MULTI_LINE_FIELDS = frozenset(("location",))
MAX_ATTRIBUTES = 100
# The identifiers no two users of a tenant may share even in look (see rules/identifiers.py):
# each with the name of its stored skeleton.
SKELETONS = {"username": "username_skeleton", "email": "email_skeleton"}


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    code: str


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_field(name: str, value: Any) -> tuple[Any, Problem | None]:
    """The cleaned value of one user field (text trimmed and NFC, usernames and e-mails in the
    form rules/identifiers.py gives them, empty optional text as None, attributes None as {})
    and what is wrong with it, if anything."""
    if name == "attributes":
        value = {} if value is None else value
        return _checked_attributes(value)
    max_length, optional = TEXT_FIELDS[name]
    text = value.strip() if isinstance(value, str) else value
    if not text:
        if optional:
            return None, None
        return None, Problem(f"{camel(name)} cannot be empty.", "REQUIRED")
    if name in MULTI_LINE_FIELDS:
        text = with_lf(text)
        if has_refused_in_lines(text):
            return text, Problem(
                "Control characters (line breaks and tabs aside) and characters that change "
                "the direction of text are not allowed here.",
                "INVALID_CHARACTERS",
            )
    elif has_refused(text):
        return text, Problem(
            "Control characters, line breaks and characters that change the direction of text "
            "are not allowed here: this field holds one line.",
            "INVALID_CHARACTERS",
        )
    text = nfc(text)
    if len(text) > max_length:
        return text, Problem(f"At most {max_length} characters.", "TOO_LONG")
    text, wrong = _form(name, text)
    if wrong is None and len(text) > max_length:  # lower case can be longer: İ is i̇
        wrong = f"At most {max_length} characters.", "TOO_LONG"
    if wrong is None:
        wrong = _format_problem(name, text)
    return text, Problem(*wrong) if wrong else None


def skeletons(fields: Mapping[str, Any]) -> dict[str, str]:
    """The stored skeletons of the username and e-mail among checked `fields`."""
    return {column: skeleton(fields[name]) for name, column in SKELETONS.items() if name in fields}


def look_alike(name: str) -> Problem:
    """The problem of a username or e-mail whose skeleton another user of the tenant has. It
    says no more about that user than "already has this username" does."""
    what = "e-mail address" if name == "email" else name
    return Problem(
        f"This {what} looks the same as another user's (with letters of another alphabet, or "
        "that read alike, such as rn and m); choose one that is clearly different.",
        f"{name.upper()}_CONFUSABLE",
    )


def _form(name: str, text: str) -> tuple[str, tuple[str, str] | None]:
    if name == "username":
        form = username_form(text)
        if form is None:
            return text, (
                "A username holds letters, digits and punctuation, without spaces, symbols or "
                "compatibility characters (such as ﬁ).",
                "INVALID_USERNAME",
            )
        return form, None
    if name == "email":
        form = email_form(text)
        if form is None:
            return text, (f"{quoted(text)} is not a valid e-mail address.", "INVALID_EMAIL")
        return form, None
    return text, None


def _format_problem(name: str, text: str) -> tuple[str, str] | None:
    if name == "email" and not EMAIL_RE.fullmatch(text):
        return f"{quoted(text)} is not a valid e-mail address.", "INVALID_EMAIL"
    if name == "language" and not LANGUAGE_RE.fullmatch(text):
        return f"{quoted(text)} is not a language tag such as 'es' or 'en-GB'.", "INVALID_LANGUAGE"
    if name in ("office_phone", "mobile_phone") and not PHONE_RE.fullmatch(text):
        return f"{quoted(text)} is not a phone number.", "INVALID_PHONE"
    if name == "time_zone":
        try:
            zoneinfo.ZoneInfo(text)
        # IsADirectoryError (an OSError) for the name of a folder of zones, such as "Europe".
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return (
                f"{quoted(text)} is not an IANA time zone such as 'Europe/Madrid'.",
                "INVALID_TIME_ZONE",
            )
    return None


def _checked_attributes(value: Any) -> tuple[Any, Problem | None]:
    if not isinstance(value, dict):
        return value, _attributes_problem(
            "Attributes must be an object of string keys and string values."
        )
    if len(value) > MAX_ATTRIBUTES:
        return value, _attributes_problem(f"At most {MAX_ATTRIBUTES} attributes.")
    cleaned = {}
    for key, item in value.items():
        item = with_lf(item) if isinstance(item, str) else item
        if not key or len(key) > 100 or not isinstance(item, str) or len(item) > 2000:
            return value, _attributes_problem(
                "Attributes must be string keys (1 to 100 characters) and string values "
                "(at most 2000 characters)."
            )
        if has_refused(key) or has_refused_in_lines(item):
            return value, Problem(
                "Attribute names are one line and values may have several, but neither may "
                "hold other control characters (NUL, ESC…) or characters that change the "
                "direction of text.",
                "INVALID_CHARACTERS",
            )
        cleaned[nfc(key)] = nfc(item)
    return cleaned, None


def _attributes_problem(message: str) -> Problem:
    return Problem(message, "INVALID_ATTRIBUTES")

"""The search box and the advanced filter of `users`, turned into a db.user_search.UserSearch."""

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from asyncpg import Record

from db.user_search import UserSearch
from resolvers.errors import BadRequest
from resolvers.id_lists import MAX_SELECTED_IDS, too_many
from resolvers.ids import decode_id
from rules.echoes import quoted
from rules.identifiers import has_refused, nfc
from schema.node import NO_SUCH_ID
from schema.user import UserFilter

# What a search for a character no stored field holds (rules/identifiers.REFUSED) finds: nobody.
# Such text never reaches SQL, where a NUL is an error, not a mismatch.
NOBODY = UserSearch(ids=())
# The longest search box text: a name, an e-mail, a few words. A word of 500,000 characters made
# a trigram query that ran for minutes.
MAX_SEARCH_LENGTH = 256
SEARCH_TOO_LONG = "SEARCH_TOO_LONG"
# The filter's moments, by their GraphQL names.
_MOMENTS = {
    "createdAfter": "created_after",
    "createdBefore": "created_before",
    "updatedAfter": "updated_after",
    "updatedBefore": "updated_before",
}


def user_search(
    search: str | None, filter: UserFilter | None, platforms: Sequence[Record]
) -> UserSearch:
    """Blank search means no search; an unknown platform or role is an error, not an empty
    list (a typo must not look like "nobody"); text with a character no field may hold
    finds nobody."""
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise BadRequest(
            f"A search of at most {MAX_SEARCH_LENGTH} characters, not {len(search):,}.",
            SEARCH_TOO_LONG,
        )
    if filter is not None:
        _check_filter(filter)
    # Split first: tabs and line breaks between words are blanks, not characters to refuse.
    words = tuple(dict.fromkeys(nfc(search or "").split()))
    texts = [*words, *(_texts(filter) if filter is not None else ())]
    if any(has_refused(t) for t in texts if t is not None):
        return NOBODY
    if filter is None:
        return UserSearch(words=words)
    platform = None
    if filter.platform is not None:
        wanted = filter.platform.strip().lower()
        platform = next((p for p in platforms if wanted in (p["key"], *p["aliases"])), None)
        if platform is None:
            raise BadRequest(f"There is no platform {quoted(filter.platform)}.", "UNKNOWN_PLATFORM")
    role = None
    if filter.role is not None:
        offering = [platform] if platform is not None else platforms
        accepted = {r.lower(): r for p in offering for r in p["roles"]}
        role = accepted.get(filter.role.strip().lower())
        if role is None:
            where = platform["name"] if platform is not None else "any platform"
            raise BadRequest(f"{where} has no role {quoted(filter.role)}.", "UNKNOWN_ROLE")
    ids = None
    if filter.ids is not None:
        ids = tuple(dict.fromkeys(decode_id(i, "User") or NO_SUCH_ID for i in filter.ids))
    domain = filter.email_domain.strip().lstrip("@").lower() if filter.email_domain else None
    return UserSearch(
        words=words,
        status=filter.status.value if filter.status is not None else None,
        platform_id=platform["id"] if platform is not None else None,
        role=role,
        email_domain=domain,
        language=filter.language.strip() if filter.language else None,
        ids=ids,
        **{name: getattr(filter, name) for name in AS_GIVEN},
    )


# The advanced filter is declared once for the API (schema.user.UserFilter) and once for SQL
# (db.user_search.UserSearch): a field of the same name in both is the same filter. These pass
# as they are given; user_search cleans or looks up the others (the platform by key).
RESOLVED = frozenset(("words", "status", "platform_id", "role", "email_domain", "language", "ids"))
AS_GIVEN = tuple(
    f.name
    for f in dataclasses.fields(UserSearch)
    if f.name not in RESOLVED and f.name in {g.name for g in dataclasses.fields(UserFilter)}
)


def _check_filter(filter: UserFilter) -> None:
    """Refuses, as the caller's mistake, what the database would fail on: more ids than a
    selection holds, and a moment that is no moment in UTC (year 1 at +14:00 is in year 0)."""
    refused = too_many(filter.ids, MAX_SELECTED_IDS) if filter.ids is not None else None
    if refused is not None:
        raise refused
    for name, attribute in _MOMENTS.items():
        check_moment(name, getattr(filter, attribute))


def check_moment(name: str, moment: datetime | None) -> None:
    """Refuses a moment that is no moment in UTC (year 1 at +14:00 is in year 0)."""
    if moment is not None and not _in_utc_range(moment):
        raise BadRequest(
            f"{name} is out of range: in UTC it falls before year 1 or after year 9999.",
            "INVALID_DATE",
        )


def _in_utc_range(moment: datetime) -> bool:
    # As asyncpg sends it: in UTC, a naive moment read in the server's time zone (which, for
    # one near year 1, raises a ValueError where an aware one raises an OverflowError).
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return False
    return True


def _texts(filter: UserFilter) -> list[str | None]:
    return [filter.platform, filter.role, filter.email_domain, filter.language]


def search_fingerprint(search: UserSearch) -> str:
    """Short digest of a search, kept in cursors so that a cursor is only used with the search
    it came from."""
    raw = json.dumps(dataclasses.asdict(search), sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]

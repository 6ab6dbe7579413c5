"""The advanced filter, declared for the API (schema.user.UserFilter) and for SQL
(db.user_search.UserSearch), is one filter: a field added to one side alone fails here."""

import dataclasses

from db.user_search import UserSearch
from resolvers.search import AS_GIVEN, RESOLVED, user_search
from schema.user import UserFilter

# The API names a platform by key or alias; the search holds its id.
RENAMED = {"platform": "platform_id"}


def names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_every_filter_of_the_api_is_a_filter_of_the_search() -> None:
    assert {RENAMED.get(n, n) for n in names(UserFilter)} == names(UserSearch) - {"words"}


def test_every_field_of_the_search_is_looked_up_or_passed_as_given() -> None:
    assert set(AS_GIVEN) | RESOLVED == names(UserSearch)


def test_fields_passed_as_given_reach_the_search() -> None:
    given = UserFilter(welcome_email_sent=False, has_password=True)
    search = user_search(None, given, [])
    assert (search.welcome_email_sent, search.has_password) == (False, True)

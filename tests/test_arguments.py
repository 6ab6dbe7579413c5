"""An argument given as `null`, left out, or given by a variable that is null reaches its
resolver alike (roster/arguments.py leaves graphql-core's nulls out before Strawberry converts
them)."""

from graphql import GraphQLObjectType

from roster.graphql_schema import build_schema
from roster.settings import Settings
from tests.conftest import Api, create_user


async def test_null_arguments_are_the_defaults(admin: Api) -> None:
    for name in ("alice", "bob", "carol"):
        await create_user(admin, name)
    left_out = await admin.data("{ users(first: 2) { edges { node { username } } } }")
    given_null = await admin.data(
        "{ users(first: 2, after: null, search: null, filter: null, orderBy: null)"
        " { edges { node { username } } } }"
    )
    by_variables = await admin.data(
        "query($s: String, $f: UserFilter) { users(first: 2, search: $s, filter: $f)"
        " { edges { node { username } } } }",
        s=None,
        f=None,
    )
    assert left_out == given_null == by_variables
    assert [e["node"]["username"] for e in left_out["users"]["edges"]] == ["alice", "bob"]


async def test_a_required_argument_is_still_checked(admin: Api) -> None:
    body = await admin("{ user(id: null, username: null, email: null) { id } }")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENTS"


def test_only_arguments_defaulting_to_none_are_left_out() -> None:
    """A field whose arguments all must be given keeps Strawberry's resolver as it is."""
    schema = build_schema(Settings())._schema
    query = schema.query_type
    assert isinstance(query, GraphQLObjectType)
    assert query.fields["users"].resolve.__name__ == "resolve_given"
    assert query.fields["job"].resolve.__name__ != "resolve_given"

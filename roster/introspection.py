"""Introspection and "Did you mean" suggestions for admin tokens only.

Admins explore the API in GraphiQL; read tokens belong to internal services, which have the
schema already, and a leaked one should not map the API for whoever holds it. build_schema leaves
this extension out in development and with ROSTER_INTROSPECTION=on."""

import re
from collections.abc import Iterator

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema.context import Context

SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class IntrospectionForAdmins(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        hidden = hides_schema(self.execution_context.context)
        if hidden:
            # A rule set of its own, so validation cached for admins is not reused here.
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
        result = self.execution_context.result
        if hidden and result is not None and result.errors:
            result.errors = without_suggestions(result.errors)


def hides_schema(context: object) -> bool:
    """Whether this caller is not to learn the schema: anyone but an admin."""
    if not isinstance(context, Context) or context.principal is None:
        return True
    return context.principal.scope != "admin"


def without_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [_without_suggestion(error) for error in errors]


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    # A new error: the one given may be held by the validation cache, which admins share.
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        error.extensions,
    )

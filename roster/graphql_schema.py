"""The strawberry.Schema, assembled from the resolvers' roots."""

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry import relay
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types

from resolvers.audit import AuditQuery
from resolvers.errors import should_mask_error
from resolvers.permissions import IsAuthenticated
from resolvers.platforms import PlatformMutation, PlatformQuery
from resolvers.users import UserMutation, UserQuery
from roster.settings import Settings


def _node_query() -> type:
    # A new class each time: building a schema binds the relay.node field to a resolver, and a
    # bound field cannot go into a second schema (tests and tools build one per app).
    @strawberry.type
    class NodeQuery:
        node: relay.Node | None = relay.node(permission_classes=[IsAuthenticated])

    return NodeQuery


Mutation = merge_types("Mutation", (UserMutation, PlatformMutation))


def build_schema(settings: Settings) -> strawberry.Schema:
    query = merge_types("Query", (_node_query(), UserQuery, PlatformQuery, AuditQuery))
    # Factories, so that each request gets fresh extension instances.
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
    ]
    if not settings.debug:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask_error))
    return strawberry.Schema(query=query, mutation=Mutation, extensions=extensions)

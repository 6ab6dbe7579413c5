"""The strawberry.Schema, assembled from the resolvers' roots."""

from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as create_alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from resolvers.audit import AuditQuery
from resolvers.emails import EmailMutation
from resolvers.errors import should_mask_error
from resolvers.exports import ExportMutation
from resolvers.jobs import JobMutation, JobQuery, JobSubscription
from resolvers.nodes import NodesQuery
from resolvers.permissions import IsAuthenticated
from resolvers.platforms import PlatformMutation, PlatformQuery
from resolvers.users import UserMutation, UserQuery
from resolvers.webhooks import WebhookMutation, WebhookQuery
from roster.error_log import log_unexpected_errors
from roster.introspection import IntrospectionForAdmins
from roster.plain_execution import PlainDataExecutionContext
from roster.query_cost import cost_rule
from roster.settings import Settings
from schema.job import EmailJob, ExportJob, ImportJob


def _node_query() -> type:
    # A new class each time: building a schema binds the relay.node field to a resolver, and a
    # bound field cannot go into a second schema (tests and tools build one per app).
    @strawberry.type
    class NodeQuery:
        node: relay.Node | None = relay.node(permission_classes=[IsAuthenticated])

    return NodeQuery


class RosterSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Instead of Strawberry's logging of every error, source line and all.
        if execution_context is None:
            log_unexpected_errors(errors, None, None)
        else:
            log_unexpected_errors(
                errors, execution_context.graphql_document, execution_context.variables
            )


Mutation = merge_types(
    "Mutation",
    (
        UserMutation,
        PlatformMutation,
        JobMutation,
        EmailMutation,
        ExportMutation,
        WebhookMutation,
    ),
)


def build_schema(settings: Settings) -> strawberry.Schema:
    query = merge_types(
        "Query",
        (_node_query(), NodesQuery, UserQuery, PlatformQuery, AuditQuery, JobQuery, WebhookQuery),
    )
    # Factories, so that each request gets fresh extension instances. The limit rules are made
    # once, here: validation results are cached per document and rule set, and rule classes made
    # anew for each request (as QueryDepthLimiter does) would defeat the cache (~2.5 ms/request).
    rules: list[type[ASTValidationRule]] = [
        create_depth_rule(settings.max_query_depth, None),
        create_alias_rule(settings.max_aliases),
        cost_rule(settings.max_query_cost),
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=1024),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=1024),
    ]
    if not (settings.debug or settings.introspection):
        extensions.append(IntrospectionForAdmins)
    if not settings.debug:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask_error))
    return RosterSchema(
        query=query,
        mutation=Mutation,
        subscription=JobSubscription,
        extensions=extensions,
        # Job is an interface: its implementations are not reachable from fields alone.
        types=[ImportJob, EmailJob, ExportJob],
        execution_context_class=PlainDataExecutionContext if settings.plain_execution else None,
    )

"""The strawberry.Schema, assembled from the resolvers' roots."""

from collections.abc import AsyncGenerator, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

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
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, StreamResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from resolvers.audit import AuditQuery
from resolvers.emails import EmailMutation
from resolvers.errors import should_mask_error
from resolvers.exports import ExportMutation
from resolvers.jobs import JobMutation, JobQuery, JobSubscription
from resolvers.nodes import NodesQuery
from resolvers.platforms import PlatformMutation, PlatformQuery
from resolvers.users import UserMutation, UserQuery
from resolvers.webhooks import WebhookMutation, WebhookQuery
from roster.error_log import log_unexpected_errors
from roster.introspection import IntrospectionForAdmins
from roster.query_cost import coded_rule, cost_rule
from roster.settings import Settings
from schema.context import Context
from schema.job import EmailJob, ExportJob, ImportJob, RevertJob

if TYPE_CHECKING:
    # Types only: with ROSTER_PLAIN_EXECUTION=off no module of the engine is loaded.
    from roster.execution.engine import Engine
    from roster.execution.prepared import Prepared, PreparedDocuments


def _node_query() -> type:
    # A new class each time: building a schema binds the relay.node field to a resolver, and a
    # bound field cannot go into a second schema (tests and tools build one per app).
    @strawberry.type
    class NodeQuery:
        node: relay.Node | None = relay.node()

    return NodeQuery


class RosterSchema(strawberry.Schema):
    """Strawberry's schema, which runs no operation without a caller (a context with no
    principal), and, with the engine (roster/execution/), runs the documents it has already
    validated without the extension hooks."""

    def __init__(self, *args: Any, engine: "Engine | None" = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine = engine

    @property
    def prepared(self) -> "PreparedDocuments | None":
        """The documents the engine runs the prepared way; None where it does not."""
        return self.engine.prepared if self.engine is not None else None

    async def execute(  # noqa: PLR0917
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if _anonymous(context_value):
            return _refused()
        engine = self.engine
        prepared = (
            engine.prepared_operation(
                query,
                operation_name,
                DEFAULT_ALLOWED_OPERATION_TYPES
                if allowed_operation_types is None
                else allowed_operation_types,
                operation_extensions,
            )
            if engine is not None
            else None
        )
        if prepared is None:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        return await self.execute_prepared(
            prepared, query, variable_values, context_value, root_value, operation_name
        )

    async def execute_prepared(  # noqa: PLR0917
        self,
        prepared: "Prepared",
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
    ) -> ExecutionResult:
        """An operation of a document the engine has prepared (only the engine's prepared
        documents reach here, so the engine is on)."""
        if _anonymous(context_value):
            return _refused()
        assert self.engine is not None
        return await self.engine.execute(
            self, prepared, query, variable_values, context_value, root_value, operation_name
        )

    async def stream(  # noqa: PLR0917
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        if _anonymous(context_value):
            return _refusal()
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )

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


def _anonymous(context: Any) -> bool:
    return isinstance(context, Context) and context.principal is None


def _refused() -> PreExecutionError:
    # Both transports refuse a caller without a token before any operation (HTTP 401,
    # graphql-transport-ws 4401); this refuses any other way in, for every field at once,
    # where a permission class on each field cost 6% of a small query's CPU.
    error = GraphQLError("A valid token is required.", extensions={"code": "UNAUTHENTICATED"})
    return PreExecutionError(data=None, errors=[error])


async def _refusal() -> AsyncGenerator[PreExecutionError, None]:
    yield _refused()


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


def build_schema(settings: Settings) -> RosterSchema:
    query = merge_types(
        "Query",
        (_node_query(), NodesQuery, UserQuery, PlatformQuery, AuditQuery, JobQuery, WebhookQuery),
    )
    # Factories, so that each request gets fresh extension instances. The limit rules are made
    # once, here: validation results are cached per document and rule set, and rule classes made
    # anew for each request (as QueryDepthLimiter does) would defeat the cache (~2.5 ms/request).
    rules: list[type[ASTValidationRule]] = [
        coded_rule(create_depth_rule(settings.max_query_depth, None), "QUERY_TOO_DEEP"),
        coded_rule(create_alias_rule(settings.max_aliases), "TOO_MANY_ALIASES"),
        cost_rule(settings.max_query_cost),
    ]
    hide_schema = not (settings.debug or settings.introspection)
    mask = None if settings.debug else MaskErrors(should_mask_error=should_mask_error)
    engine = _engine(settings, mask, hide_schema)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=1024),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=1024),
        *(engine.extensions() if engine is not None else ()),
    ]
    if hide_schema:
        extensions.append(IntrospectionForAdmins)
    if mask is not None:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask_error))
    schema = RosterSchema(
        query=query,
        mutation=Mutation,
        subscription=JobSubscription,
        extensions=extensions,
        # Job is an interface: its implementations are not reachable from fields alone.
        types=[ImportJob, EmailJob, ExportJob, RevertJob],
        execution_context_class=engine.execution_context_class if engine is not None else None,
        config=engine.config() if engine is not None else StrawberryConfig(),
        engine=engine,
    )
    if engine is not None:
        engine.install(schema)
    return schema


def _engine(settings: Settings, mask: MaskErrors | None, hide_schema: bool) -> "Engine | None":
    """The execution engine, or None (ROSTER_PLAIN_EXECUTION=off) for stock Strawberry."""
    if not settings.plain_execution:
        return None
    # Imported here and only here: with the engine off none of its execution modules is loaded
    # (only its WebSocket handler, which both modes need), so an upgrade of Strawberry or
    # graphql-core that breaks the fast path leaves Roster running without it.
    from roster.execution.engine import Engine

    return Engine(
        prepared_documents=settings.prepared_documents, mask=mask, hide_schema=hide_schema
    )

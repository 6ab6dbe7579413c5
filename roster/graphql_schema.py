"""The strawberry.Schema, assembled from the resolvers' roots."""

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from functools import partial
from inspect import isawaitable
from typing import Any, TypeGuard, cast

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry import relay
from strawberry.execution import optimized_is_awaitable
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
from roster.arguments import RememberedNames, hand_over_arguments_lightly
from roster.error_log import log_unexpected_errors
from roster.introspection import IntrospectionForAdmins, hides_schema, without_suggestions
from roster.plain_execution import PlainDataExecutionContext
from roster.prepared import EXECUTABLE, Prepared, PreparedDocuments, RememberValidDocuments
from roster.query_cost import cost_rule
from roster.settings import Settings
from schema.context import Context
from schema.job import EmailJob, ExportJob, ImportJob

# Strawberry's test of resolvers' results, as graphql-core's execute types it.
IS_AWAITABLE = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


def _node_query() -> type:
    # A new class each time: building a schema binds the relay.node field to a resolver, and a
    # bound field cannot go into a second schema (tests and tools build one per app).
    @strawberry.type
    class NodeQuery:
        node: relay.Node | None = relay.node()

    return NodeQuery


class RosterSchema(strawberry.Schema):
    """Strawberry's schema, which runs no operation without a caller (a context with no
    principal), and runs the documents it has already validated (see roster/prepared.py)
    without the extension hooks, handling their errors as the extensions named here would:
    `mask` as MaskErrors, `hide_schema` as IntrospectionForAdmins."""

    def __init__(
        self,
        *args: Any,
        prepared: PreparedDocuments | None = None,
        mask: MaskErrors | None = None,
        hide_schema: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.prepared = prepared
        self.mask = mask
        self.hide_schema = hide_schema

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
        prepared = self.prepared.get(query) if self.prepared is not None else None
        kind = prepared.operation_type(operation_name) if prepared is not None else None
        allowed = (
            DEFAULT_ALLOWED_OPERATION_TYPES
            if allowed_operation_types is None
            else allowed_operation_types
        )
        if (
            prepared is None
            or kind not in EXECUTABLE
            or kind not in allowed
            or operation_extensions
        ):
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
        prepared: Prepared,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
    ) -> ExecutionResult:
        if _anonymous(context_value):
            return _refused()
        try:
            result = prepared.run(
                self._schema,
                self.execution_context_class,
                operation_name,
                root_value=root_value,
                context_value=context_value,
                variable_values=variable_values,
                is_awaitable=IS_AWAITABLE,
            )
            if isawaitable(result):
                result = await result
            data, errors = result.data, result.errors
        except Exception as e:  # as Strawberry's execute: the error, in the response
            data, errors = None, [GraphQLError(str(e), original_error=e)]
        if errors:
            errors = self.presented_errors(errors, query, prepared, variable_values, context_value)
        return ExecutionResult(data=data, errors=errors, extensions={})

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

    def presented_errors(  # noqa: PLR0917
        self,
        errors: list[GraphQLError],
        query: str | None,
        prepared: Prepared,
        variable_values: dict[str, Any] | None,
        context_value: Any,
    ) -> list[GraphQLError]:
        """Logged, then masked and stripped of suggestions, as Strawberry's execute and
        build_schema's extensions do."""
        execution_context = ExecutionContext(
            query=query,
            schema=self,
            allowed_operations=EXECUTABLE,
            context=context_value,
            variables=variable_values,
        )
        execution_context.graphql_document = prepared.document
        self._process_errors(errors, execution_context)
        if self.mask is not None:
            mask = self.mask
            errors = [mask.anonymise_error(e) if mask.should_mask_error(e) else e for e in errors]
        if self.hide_schema and hides_schema(context_value):
            errors = without_suggestions(errors)
        return errors

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
        create_depth_rule(settings.max_query_depth, None),
        create_alias_rule(settings.max_aliases),
        cost_rule(settings.max_query_cost),
    ]
    prepared = PreparedDocuments(maxsize=1024)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ParserCache, maxsize=1024),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=1024),
        partial(RememberValidDocuments, prepared),
    ]
    hide_schema = not (settings.debug or settings.introspection)
    if hide_schema:
        extensions.append(IntrospectionForAdmins)
    mask = None if settings.debug else MaskErrors(should_mask_error=should_mask_error)
    if mask is not None:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask_error))
    schema = RosterSchema(
        query=query,
        mutation=Mutation,
        subscription=JobSubscription,
        extensions=extensions,
        # Job is an interface: its implementations are not reachable from fields alone.
        types=[ImportJob, EmailJob, ExportJob],
        execution_context_class=PlainDataExecutionContext if settings.plain_execution else None,
        prepared=prepared if settings.prepared_documents else None,
        mask=mask,
        hide_schema=hide_schema,
        config=StrawberryConfig(name_converter=RememberedNames()),
    )
    hand_over_arguments_lightly(schema)
    return schema

"""The engine's interface: the one object roster/graphql_schema.py and roster/graphql_view.py
hold, and through which they reach the modules beside it.

build_schema makes an Engine only with ROSTER_PLAIN_EXECUTION on, and imports this module only
then; the schema and the view ask `schema.engine` and take Strawberry's way where it is None."""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from inspect import isawaitable
from typing import Any, NamedTuple, TypeGuard, cast

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.asgi import GraphQL
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from roster.execution.arguments import RememberedNames, hand_over_arguments_lightly
from roster.execution.info import FieldNodesInfo
from roster.execution.plain_execution import PlainDataExecutionContext
from roster.execution.prepared import (
    EXECUTABLE,
    Prepared,
    PreparedDocuments,
    RememberValidDocuments,
)
from roster.execution.subscriptions import prepared_subscription, run_subscription
from roster.introspection import IntrospectionForAdmins, hides_schema, without_suggestions

# Strawberry's test of resolvers' results, as graphql-core's execute types it.
IS_AWAITABLE = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)

# The schema's extensions, none of whose hooks runs for a prepared document, and what stands in
# for each there. An extension missing here would be skipped silently for every document sent
# a second time: Engine.install refuses a schema that has one.
SKIPPED_EXTENSIONS: dict[type[SchemaExtension], str] = {
    MaxTokensLimiter: "the document's tokens were counted when it was first parsed",
    ParserCache: "the document is remembered parsed",
    AddValidationRules: "its rules (depth, aliases, cost) read the document only: passed once",
    ValidationCache: "the document is remembered valid",
    RememberValidDocuments: "what remembers documents for this path",
    IntrospectionForAdmins: "introspection is never prepared; suggestions hidden by hide_schema",
    MaskErrors: "errors masked by `mask`, as MaskErrors would",
}


# How many Accept values `streamed` remembers (a client may send any; a few are common).
MAX_ACCEPTS = 64


# What a GET may run.
QUERIES = frozenset({OperationType.QUERY})


class PreparedRequest(NamedTuple):
    """An operation (POSTed, or a GET's query) of a document Roster has validated before
    (prepared.py)."""

    prepared: Prepared
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class Engine:
    """Roster's fast path for one schema: resolvers' arguments handed over lightly and plain
    data completed by plans (always, while the engine is on), and documents validated once run
    without Strawberry's extension hooks (with ROSTER_PREPARED_DOCUMENTS on), their errors
    handled as the extensions would: `mask` as MaskErrors, `hide_schema` as
    IntrospectionForAdmins."""

    execution_context_class = PlainDataExecutionContext

    def __init__(
        self,
        *,
        prepared_documents: bool,
        mask: MaskErrors | None,
        hide_schema: bool,
        compiled: bool = True,
    ) -> None:
        self.prepared = PreparedDocuments(maxsize=1024) if prepared_documents else None
        self.mask = mask
        self.hide_schema = hide_schema
        # Whether prepared queries run compiled (compiled.py); the differential tests run the
        # prepared path without it too.
        self.compiled = compiled
        # By Accept header: whether the view streams its answer.
        self.accepts: dict[str, bool] = {}

    def config(self) -> StrawberryConfig:
        return StrawberryConfig(name_converter=RememberedNames(), info_class=FieldNodesInfo)

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """The extensions the engine adds to the schema's, after validation's."""
        if self.prepared is None:
            return []
        return [partial(RememberValidDocuments, self.prepared)]

    def install(self, schema: strawberry.Schema) -> None:
        """Once the schema is built: its resolvers with arguments made lighter, after a check
        that the prepared path knows what each of its extensions does."""
        unknown = [c.__name__ for c in extension_classes(schema) if c not in SKIPPED_EXTENSIONS]
        if unknown and self.prepared is not None:
            raise TypeError(
                f"Prepared documents would run without the hooks of {', '.join(unknown)}: do what "
                "each does for them in roster/execution/engine.py, then add it to "
                "SKIPPED_EXTENSIONS."
            )
        hand_over_arguments_lightly(schema)

    def prepared_operation(
        self,
        query: str | None,
        operation_name: str | None,
        allowed_operation_types: Iterable[OperationType],
        operation_extensions: dict[str, Any] | None,
    ) -> Prepared | None:
        """The prepared document to run this operation of, or None for Strawberry's way."""
        prepared = self.prepared.get(query) if self.prepared is not None else None
        if prepared is None or operation_extensions:
            return None
        kind = prepared.operation_type(operation_name)
        if kind not in EXECUTABLE or kind not in allowed_operation_types:
            return None
        return prepared

    async def execute(  # noqa: PLR0913
        self,
        schema: strawberry.Schema,
        prepared: Prepared,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any,
        operation_name: str | None,
    ) -> ExecutionResult:
        """The operation run with graphql-core, its errors logged, masked and stripped of
        suggestions as Strawberry's execute and the schema's extensions would."""
        try:
            compiled = (
                prepared.compiled_operation(schema._schema, operation_name)
                if self.compiled
                else None
            )
            if compiled is not None:
                result = compiled.run(root_value, context_value, variable_values, IS_AWAITABLE)
            else:
                result = prepared.run(
                    schema._schema,
                    schema.execution_context_class,
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
            errors = self.presented_errors(
                schema, errors, query, prepared, variable_values, context_value
            )
        return ExecutionResult(data=data, errors=errors, extensions={})

    def presented_errors(  # noqa: PLR0913
        self,
        schema: strawberry.Schema,
        errors: list[GraphQLError],
        query: str | None,
        prepared: Prepared,
        variable_values: dict[str, Any] | None,
        context_value: Any,
    ) -> list[GraphQLError]:
        errors = self.logged_and_masked(
            schema, errors, query, prepared, variable_values, context_value
        )
        if self.hide_schema and hides_schema(context_value):
            errors = without_suggestions(errors)
        return errors

    def logged_and_masked(  # noqa: PLR0913
        self,
        schema: strawberry.Schema,
        errors: list[GraphQLError],
        query: str | None,
        prepared: Prepared,
        variable_values: dict[str, Any] | None,
        context_value: Any,
    ) -> list[GraphQLError]:
        """The errors logged as Strawberry's schema logs them, then masked as MaskErrors
        masks them."""
        execution_context = ExecutionContext(
            query=query,
            schema=schema,
            allowed_operations=EXECUTABLE,
            context=context_value,
            variables=variable_values,
        )
        execution_context.graphql_document = prepared.document
        schema._process_errors(errors, execution_context)
        if self.mask is not None:
            mask = self.mask
            errors = [mask.anonymise_error(e) if mask.should_mask_error(e) else e for e in errors]
        return errors

    def subscription(self, handler: Any, operation: Any) -> Awaitable[None] | None:
        """The run of a subscription operation of a prepared document (subscriptions.py),
        for the WebSocket handler to await; None for Strawberry's way."""
        prepared = prepared_subscription(self, operation.query, operation.operation_name)
        if prepared is None:
            return None
        return run_subscription(self, handler, operation, prepared)

    def stream_errors(
        self,
        schema: strawberry.Schema,
        errors: list[GraphQLError],
        operation: Any,
        context: Any,
        prepared: Prepared,
    ) -> list[GraphQLError]:
        """A subscription's errors as Strawberry's stream sends them: logged and masked (the
        suggestions IntrospectionForAdmins strips only from a result already sent)."""
        return self.logged_and_masked(
            schema, errors, operation.query, prepared, operation.variables, context
        )

    def streamed(self, view: GraphQL[Any, Any], accept: str) -> bool:
        """Whether Strawberry's view would stream its answer to a request with this Accept
        (remembered for the few Accept values clients send: Strawberry parses it each time)."""
        found = self.accepts.get(accept)
        if found is None:
            found = view._get_stream_transport_from_headers({"accept": accept}) is not None
            if len(self.accepts) < MAX_ACCEPTS:
                self.accepts[accept] = found
        return found

    def prepared_request(self, body: bytes) -> PreparedRequest | None:
        """The request, when it is a well-formed operation of a prepared document, to run as
        a POST may (a query or a mutation) and without extensions."""
        if self.prepared is None:
            return None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("extensions", {}) != {}:
            return None  # extensions, or a body Strawberry refuses
        query, variables = data.get("query"), data.get("variables")
        return self._prepared_operation(query, variables, data.get("operationName"), EXECUTABLE)

    def prepared_get(self, params: Mapping[str, str]) -> PreparedRequest | None:
        """The request, when a GET's address holds a well-formed query of a prepared document
        (a GET runs queries only, as Strawberry's view has it) and no extensions."""
        if self.prepared is None or "extensions" in params:
            return None
        variables = params.get("variables")
        try:
            decoded = orjson.loads(variables) if variables is not None else None
        except orjson.JSONDecodeError:
            return None  # Strawberry's run refuses it, with its own message
        return self._prepared_operation(
            params.get("query"), decoded, params.get("operationName"), QUERIES
        )

    def _prepared_operation(
        self,
        query: object,
        variables: object,
        operation_name: object,
        allowed: frozenset[OperationType],
    ) -> PreparedRequest | None:
        assert self.prepared is not None
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
        ):
            return None
        prepared = self.prepared.get(query)
        if prepared is None or prepared.operation_type(operation_name) not in allowed:
            return None
        return PreparedRequest(prepared, query, variables, operation_name)

    def handle_errors(
        self, view: GraphQL[Any, Any], errors: list[GraphQLError], data: GraphQLHTTPResponse
    ) -> None:
        """The view's hook for a response's errors, which Strawberry's run calls."""
        view._handle_errors(errors, data)


def extension_classes(schema: strawberry.Schema) -> list[type]:
    """The classes of the schema's extensions (given as classes, or partials of them)."""
    return [cast("type", getattr(e, "func", e)) for e in schema.extensions]

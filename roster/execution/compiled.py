"""Queries of prepared documents run as operations compiled once: what graphql-core works out on
every request — the operation's root fields, each field's definition, resolver, arguments and
path, how its value completes — is worked out the first time a document runs prepared, and
each later request only coerces its variables, calls the root resolvers and completes their
values by the plans of plain_execution.py (straight-line code per object type and selection,
lists and nested objects inlined, `__typename` and aliases as constants).

No executor is made for a request that needs none. graphql-core's Executor (the engine's
PlainDataExecutionContext) is made on the first thing the compiled operation leaves to it: a
value a plan does not complete as the stock path would (a null in a non-null field, a value a
serialiser refuses, an interface to resolve, a field with a resolver of its own), an error in a
resolver or its arguments, which it locates, collects and propagates to the nearest nullable
field as it always does. What a plan completes has no effect and is given up whole before any
resolver below it runs, so handing a value to the executor gives the answer and the errors the
stock path gives.

Compiled: queries (mutations run their fields one after the other, and are rare), with no
@skip or @include reading a variable, no directive on the operation, no @defer, and no field
middleware. Anything else runs prepared (prepared.py), as before."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, cast

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableValues,
    default_field_resolver,
    default_type_resolver,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from roster.execution.arguments import direct_call
from roster.execution.inputs import NO_VARIABLES, Arguments, Variables
from roster.execution.plain_execution import PlainDataExecutionContext, directives_read_variables
from roster.execution.plans import Completer, compiled_completer

IsAwaitable = Callable[[Any], TypeGuard[Awaitable[Any]]]


def _gather(values: Any) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


# Awaitables settled in the background, held until they are (as the executor holds them).
_BACKGROUND: set[asyncio.Future[Any]] = set()


def _track(values: Any) -> None:
    """As graphql-core's track_async_work: awaitables settled in the background."""
    awaitables = [value for value in values if optimized_is_awaitable(value)]
    if not awaitables:
        return
    future = asyncio.gather(*awaitables, return_exceptions=True)
    _BACKGROUND.add(future)
    future.add_done_callback(_BACKGROUND.discard)


# graphql-core's helpers, for the infos of the root fields, without an executor (what it keeps
# of them serves only its hooks, which the engine does not set): a resolver's and graphql-core's
# type resolution (an interface's possible types) may ask. Not bound to a request, so that no
# request makes a reference cycle (plain_execution.py's _helpers_of says why that matters).
_ROOT_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=_track)


# Strawberry's, which reads only attributes _Request has (the executor's, of the same names).
_build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info


async def _raise(error: Exception) -> Any:
    raise error


class _Request:
    """One request of a compiled operation: what its resolvers' infos hold, and the executor,
    made only if something needs it."""

    __slots__ = (
        "abort_signal",
        "async_helpers",
        "compiled",
        "context_value",
        "executor",
        "fragment_definitions",
        "is_awaitable",
        "operation",
        "operation_extensions",
        "root_value",
        "schema",
        "variable_values",
    )

    def __init__(
        self,
        compiled: "CompiledOperation",
        root_value: Any,
        context_value: Any,
        variable_values: VariableValues,
        is_awaitable: IsAwaitable,
    ) -> None:
        self.compiled = compiled
        self.schema = compiled.schema
        self.fragment_definitions = compiled.fragment_definitions
        self.operation = compiled.operation
        self.root_value = root_value
        self.context_value = context_value
        self.variable_values = variable_values
        self.is_awaitable = is_awaitable
        self.abort_signal = None
        self.async_helpers = _ROOT_HELPERS
        self.operation_extensions = None
        self.executor: PlainDataExecutionContext | None = None

    def resolve_info(self, field: "_RootField", root_type: GraphQLObjectType) -> Any:
        """The info Strawberry's executor gives a root field's resolver."""
        return _build_resolve_info(
            cast("Any", self), field.field_def, field.nodes, root_type, field.path
        )

    def stock(self) -> PlainDataExecutionContext:
        """The executor, as the prepared path makes it (prepared.py)."""
        if self.executor is None:
            compiled = self.compiled
            self.executor = PlainDataExecutionContext(
                self.schema,
                compiled.fragment_definitions,
                compiled.fragments,
                self.root_value,
                self.context_value,
                self.operation,
                self.variable_values,
                default_field_resolver,
                default_type_resolver,
                default_field_resolver,
                is_awaitable=self.is_awaitable,
            )
        return self.executor

    def response(self, data: dict[str, Any] | None) -> ExecutionResult:
        if self.executor is None:
            return ExecutionResult(data, None)
        return cast("ExecutionResult", self.executor.build_response(data))


class _RootField:
    """One root field: its resolver called with arguments worked out once where they can be,
    and its value completed by a plan where one applies, else by the executor."""

    __slots__ = (
        "arguments",
        "completer",
        "details",
        "direct",
        "field_def",
        "key",
        "nodes",
        "path",
        "resolve",
        "return_type",
    )

    def __init__(
        self,
        key: str,
        field_def: GraphQLField,
        details: Any,
        root_type: GraphQLObjectType,
        completer: Completer | None,
    ) -> None:
        self.key = key
        self.field_def = field_def
        self.details = details
        self.nodes: list[FieldNode] = [d.node for d in details]
        self.path = Path(None, key, root_type.name)
        self.return_type: GraphQLOutputType = field_def.type
        self.resolve = field_def.resolve or default_field_resolver
        # The resolver's DirectCall (arguments.py), called without graphql-core's wrapper of it.
        self.direct = direct_call(field_def.resolve)
        self.arguments = Arguments(field_def, self.nodes[0])
        # The value's completion by plans, generated as one function; None: the executor's.
        self.completer = compiled_completer(completer) if completer is not None else None

    def execute(self, request: _Request, root_type: GraphQLObjectType) -> Any:
        """As graphql-core's execute_field, after the look-ups done once."""
        info = request.resolve_info(self, root_type)
        try:
            result = self.call(request, info)
            if request.is_awaitable(result):
                return self.complete_awaitable(request, info, result)
            completed = self.complete(request, info, result)
            if request.is_awaitable(completed):
                return self.await_completed(request, completed)
        except Exception as raw_error:
            request.stock().handle_field_error(raw_error, self.return_type, self.details, self.path)
            return None
        return completed

    def call(self, request: _Request, info: Any) -> Any:
        """The resolver's result for this request's arguments."""
        args = self.arguments.values(request.variable_values)
        direct = self.direct
        if direct is None:
            return self.resolve(request.root_value, info, **args)
        if not direct.field.is_async:
            return direct(request.root_value, info, args)
        try:
            return direct(request.root_value, info, args)
        except Exception as error:
            # Raised when graphql-core awaits the wrapper's coroutine, not while it calls it.
            return _raise(error)

    def complete(self, request: _Request, info: Any, result: Any) -> Any:
        completer = self.completer
        if completer is not None:
            try:
                return completer(result)
            except Exception:  # noqa: S110 - Irregular, or an attribute's or serialiser's error
                pass  # the stock path completes it, and says what is wrong
        return request.stock().complete_value(
            self.return_type, self.details, info, self.path, result, None
        )

    async def complete_awaitable(self, request: _Request, info: Any, result: Any) -> Any:
        try:
            resolved = await result
            completed = self.complete(request, info, resolved)
            if request.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            request.stock().handle_field_error(raw_error, self.return_type, self.details, self.path)
            completed = None
        return completed

    async def await_completed(self, request: _Request, completed: Awaitable[Any]) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            request.stock().handle_field_error(raw_error, self.return_type, self.details, self.path)
            return None


class CompiledOperation:
    """A query of a prepared document, compiled (see the module's docstring)."""

    __slots__ = (
        "fields",
        "fragment_definitions",
        "fragments",
        "operation",
        "root_type",
        "schema",
        "typename",
        "variables",
    )

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragment_definitions: dict[str, Any],
        fragments: dict[str, Any],
        root_type: GraphQLObjectType,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragment_definitions = fragment_definitions
        self.fragments = fragments
        self.root_type = root_type
        self.variables = Variables(schema, operation)
        # In response order: a root field, or the response key of a `__typename`.
        self.fields: list[_RootField | str] = []

    @classmethod
    def compile(
        cls,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragment_definitions: dict[str, Any],
        fragments: dict[str, Any],
    ) -> "CompiledOperation | None":
        """The operation compiled, or None for one this module leaves to the prepared path."""
        root_type = schema.query_type
        if (
            operation.operation != OperationType.QUERY
            or root_type is None
            or operation.directives
            or directives_read_variables(operation, fragment_definitions)
        ):
            return None
        try:
            return cls._compiled(schema, operation, fragment_definitions, fragments, root_type)
        except (GraphQLError, RecursionError):
            return None  # what the stock path answers with an error on every request

    @classmethod
    def _compiled(
        cls,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragment_definitions: dict[str, Any],
        fragments: dict[str, Any],
        root_type: GraphQLObjectType,
    ) -> "CompiledOperation | None":
        compiled = cls(schema, operation, fragment_definitions, fragments, root_type)
        # The executor the plans are made with: no selection reads a variable, so none given.
        planner = PlainDataExecutionContext(
            schema,
            fragment_definitions,
            fragments,
            None,
            None,
            operation,
            NO_VARIABLES,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
        )
        found = planner.root_fields()
        if found is None:
            return None
        for key, details in found[1].items():
            name = details[0].node.name.value
            if name == "__typename":
                compiled.fields.append(key)
                continue
            field_def = root_type.fields.get(name)
            if field_def is None:
                return None
            completer = planner.completer(field_def.type, details, non_null=False)
            compiled.fields.append(_RootField(key, field_def, details, root_type, completer))
        return compiled

    def run(
        self,
        root_value: Any,
        context_value: Any,
        variable_values: dict[str, Any] | None,
        is_awaitable: IsAwaitable,
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """As graphql-core's execute_operation, the variables coerced first."""
        coerced = self.variables.coerce(variable_values)
        if isinstance(coerced, list):
            return ExecutionResult(None, errors=coerced)
        request = _Request(self, root_value, context_value, coerced, is_awaitable)
        if len(self.fields) == 1 and isinstance(self.fields[0], _RootField):
            return self.run_field(request, self.fields[0])
        try:
            result = self.execute_fields(request)
            if is_awaitable(result):
                return self.await_operation(request, result)
        except GraphQLError as error:
            request.stock().collected_errors.add(error, None)
            return request.response(None)
        return request.response(cast("dict[str, Any]", result))

    def run_field(
        self, request: _Request, field: _RootField
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """An operation of one root field: as execute_operation, execute_fields and
        execute_field run it, with one coroutine where the resolver is async, not four."""
        info = request.resolve_info(field, self.root_type)
        try:
            try:
                result = field.call(request, info)
                if request.is_awaitable(result):
                    return self.await_field(request, field, info, result, resolved=False)
                completed = field.complete(request, info, result)
                if request.is_awaitable(completed):
                    return self.await_field(request, field, info, completed, resolved=True)
            except Exception as raw_error:
                request.stock().handle_field_error(
                    raw_error, field.return_type, field.details, field.path
                )
                completed = None
        except GraphQLError as error:  # a non-null root field's: no data
            request.stock().collected_errors.add(error, None)
            return request.response(None)
        return request.response({field.key: completed})

    async def await_field(
        self, request: _Request, field: _RootField, info: Any, awaitable: Any, *, resolved: bool
    ) -> ExecutionResult:
        """The rest of run_field, once the resolver's result (or, `resolved`, its completion)
        is awaited."""
        try:
            try:
                completed = await awaitable
                if not resolved:
                    completed = field.complete(request, info, completed)
                    if request.is_awaitable(completed):
                        completed = await completed
            except Exception as raw_error:
                request.stock().handle_field_error(
                    raw_error, field.return_type, field.details, field.path
                )
                completed = None
        except GraphQLError as error:
            request.stock().collected_errors.add(error, None)
            return request.response(None)
        return request.response({field.key: completed})

    def execute_fields(self, request: _Request) -> Any:
        """As graphql-core's execute_fields for the root."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        root_type = self.root_type
        try:
            for field in self.fields:
                if isinstance(field, str):
                    results[field] = root_type.name
                    continue
                result = field.execute(request, root_type)
                results[field.key] = result
                if request.is_awaitable(result):
                    awaitable_fields.append(field.key)
        except Exception:
            if awaitable_fields:
                request.stock().settle_in_background([results[k] for k in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self.await_fields(results, awaitable_fields)

    async def await_fields(
        self, results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            key = awaitable_fields[0]
            results[key] = await results[key]
            return results
        awaited = await gather_with_cancel(*(results[key] for key in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    async def await_operation(
        self, request: _Request, result: Awaitable[dict[str, Any]]
    ) -> ExecutionResult:
        try:
            data = await result
        except GraphQLError as error:
            request.stock().collected_errors.add(error, None)
            return request.response(None)
        except Exception:
            if request.executor is not None:
                await request.executor.cancel_incremental_work()
                request.executor.run_async_work_finished_hook()
            raise
        return request.response(data)

"""Completes objects whose selected fields are plain data without graphql-core's per-field
machinery, and everything else the stock way.

graphql-core completes every field of every object alike: a path, the field's definition, a
resolve info, its arguments, Strawberry's resolver wrapper, then the value's completion, ~3.4 µs
a field here, most of the cost of a page of users. A plain field (no resolver of its own, no
arguments, no permission or extension: a dataclass attribute) needs only its attribute read and,
for a leaf, the scalar's serialisation. So for each object type and selection (after fragments,
aliases and @skip/@include, as graphql-core collects them) a plan is compiled once per request:
plain fields read and serialised directly, nested plain objects and lists of them inlined, and
every other field executed by graphql-core in the object's response order.

Exactly equivalent, by construction: a plan only ever reads attributes and serialises, which
has no effect; anything it does not expect (a null in a non-null field, a serialisation error,
a value of another type, an awaitable or an iterable other than a list) makes it give the whole
object back to the stock path before any resolver of that object has run, and the stock path
then produces the result and the errors it always does. tests/test_plain_execution.py runs
generated queries through both and compares."""

import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from inspect import iscoroutinefunction
from typing import Any, cast

from graphql import (
    DirectiveNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    is_leaf_type,
    visit,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import GroupedFieldSet, collect_fields
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from roster.execution.plans import Completer, Field, Leaf, ListOf, Object, Plan
from schema.context import PLAIN_ATTRIBUTE

_SKIP_INCLUDE = frozenset({"skip", "include"})


NodeKey = tuple[GraphQLObjectType, tuple[int, ...]]


class OperationCache:
    """What is worked out once for an operation whose selection reads no variable: the plans of
    its objects, and the fields of its root as graphql-core collects them."""

    __slots__ = ("fragments", "operation", "plans", "root_fields")

    def __init__(self, operation: OperationDefinitionNode, fragments: Any) -> None:
        # Held so that the ids of their nodes, which key the plans, are not reused.
        self.operation = operation
        self.fragments = fragments
        self.plans: dict[NodeKey, Plan | None] = {}
        # By root type: a parsed document may be run by more than one schema.
        self.root_fields: dict[GraphQLObjectType, GroupedFieldSet] = {}


class OperationPlans:
    """The plans of the operations served lately, for the next requests of their documents.

    A plan depends on the schema's types and on the selection, which is the document's but for
    @skip/@include reading variables: operations where one does are planned per request. The
    field nodes that key a plan stay alive with their operation and fragments, held here, so
    their ids are not reused while the plan is."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self.operations: OrderedDict[int, OperationCache] = OrderedDict()

    def of(
        self, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
    ) -> OperationCache | None:
        entry = self.operations.get(id(operation))
        if entry is not None:
            self.operations.move_to_end(id(operation))
            return entry
        if directives_read_variables(operation, fragments):
            return None
        entry = self.operations[id(operation)] = OperationCache(operation, fragments)
        if len(self.operations) > self.maxsize:
            self.operations.popitem(last=False)
        return entry


class _ConditionsOnVariables(Visitor):
    """Finds an @skip or @include whose condition is a variable."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if node.name.value in _SKIP_INCLUDE and any(
            isinstance(argument.value, VariableNode) for argument in node.arguments or ()
        ):
            self.found = True


def directives_read_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> bool:
    """Whether an @skip or @include of the operation, or of a fragment, reads a variable."""
    finder = _ConditionsOnVariables()
    for node in (operation, *fragments.values()):
        visit(node, finder)
    return finder.found


OPERATION_PLANS = OperationPlans()


def _plain_attribute(strawberry_field: Any, field_def: GraphQLField) -> str | None:
    """The attribute a resolver returns whenever it is not None (schema.context's
    PLAIN_ATTRIBUTE), for a non-null field without permissions or extensions: its None is then
    Irregular, which leaves the object to the stock path and the resolver."""
    attribute = strawberry_field.metadata.get(PLAIN_ATTRIBUTE)
    if (
        not isinstance(attribute, str)
        or not isinstance(field_def.type, GraphQLNonNull)
        or strawberry_field.permission_classes
        or strawberry_field.extensions
    ):
        return None
    return attribute


def _helpers_of(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    """graphql-core's async helpers for resolvers, holding their executor weakly. Bound to it,
    they made every operation a reference cycle (executor, helpers, executor), so that nothing
    the operation held (its context, request, response: 37 objects) was freed when it ended but
    only by the garbage collector's next pass, which then had it all to walk (3% of a lone
    user's CPU). Only a running executor's resolvers call them, and its own coroutines hold a
    running executor."""
    proxy = cast("Executor[Any]", weakref.proxy(executor))

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return proxy.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        proxy.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class PlainDataExecutionContext(Executor[Any]):
    """Strawberry's execution context, with objects completed by plans where they can be.

    On graphql-core's Executor rather than on the IncrementalExecutor Strawberry's context
    extends: Roster's schema has no @defer or @stream (graphql-core's execute refuses a schema
    that has them), and the incremental executor's state, made for every operation, was 2% of
    a lone user's CPU. Strawberry's resolve info is kept: its resolvers expect it."""

    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Strawberry passes its operation extensions to its own context class.
        self.operation_extensions = kwargs.pop("operation_extensions", None)
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers_of(self)
        # Plans by object type and field group, which graphql-core keeps for the request.
        self.plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan | None]] = {}
        # Plans by object type and field nodes, and the root's fields, kept with the operation
        # for its next requests.
        self.cached = OPERATION_PLANS.of(self.operation, self.fragment_definitions)

    def execute_operation(self, serially: bool | None = None) -> Any:
        """graphql-core's, with the root's fields collected once per operation rather than on
        every request (2% of a lone user's instructions); the stock way for anything else
        (fields depending on variables, an abort signal, a type with no root)."""
        found = self.root_fields()
        if found is None:
            return super().execute_operation(serially)
        root_type, fields = found
        if serially is None:
            serially = self.operation.operation == OperationType.MUTATION
        try:
            result = self.execute_collected_root_fields(
                root_type, self.root_value, fields, serially, ()
            )
            if self.is_awaitable(result):
                return self.await_operation(result)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        return self.build_response(cast("dict[str, Any]", result))

    async def await_operation(self, result: Awaitable[dict[str, Any]]) -> Any:
        # As graphql-core's execute_operation awaits its result.
        try:
            data = await result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        except Exception:
            await self.cancel_incremental_work()
            self.run_async_work_finished_hook()
            raise
        return self.build_response(data)

    def root_fields(self) -> tuple[GraphQLObjectType, GroupedFieldSet] | None:
        cached = self.cached
        if cached is None or self.abort_signal is not None:
            return None
        root_type = self.schema.get_root_type(self.operation.operation)
        if root_type is None:
            return None
        fields = cached.root_fields.get(root_type)
        if fields is None:
            try:
                fields, defer_usages, _ = collect_fields(
                    self.schema,
                    self.fragments,
                    self.variable_values,
                    root_type,
                    self.operation,
                    self.hide_suggestions,
                )
            except RecursionError:
                return None  # too deeply nested: the stock way says so
            if defer_usages:
                return None
            cached.root_fields[root_type] = fields
        return root_type, fields

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self.plan(return_type, field_details_list)
        if plan is None or (
            return_type.is_type_of is not None and return_type.is_type_of(result, info) is not True
        ):
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        try:
            values = plan.complete(result)
        except Exception:
            # Irregular, or what an attribute or a serialiser raised: the stock path says it.
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        if not plan.stock:
            return values
        return self.execute_stock_fields(return_type, result, path, plan, values)

    def execute_stock_fields(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path,
        plan: Plan,
        values: dict[str, Any],
    ) -> Any:
        """The other fields, each by graphql-core, as its execute_fields does."""
        awaited: list[str] = []
        try:
            for key, field_details_list in plan.stock:
                value = self.execute_field(
                    parent_type, source, field_details_list, Path(path, key, parent_type.name), None
                )
                if value is Undefined:
                    del values[key]
                    continue
                values[key] = value
                if self.is_awaitable(value):
                    awaited.append(key)
        except Exception:
            if awaited:
                self.settle_in_background([values[key] for key in awaited])
            raise
        if not awaited:
            return values
        return self.await_fields(values, awaited)

    async def await_fields(self, values: dict[str, Any], awaited: list[str]) -> dict[str, Any]:
        pending: list[Awaitable[Any]] = [values[key] for key in awaited]
        if len(pending) == 1:
            values[awaited[0]] = await pending[0]
            return values
        for key, value in zip(awaited, await gather_with_cancel(*pending), strict=True):
            values[key] = value
        return values

    def plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> Plan | None:
        """The plan of this selection on `object_type`, or None where none applies (field
        middleware, incremental delivery)."""
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return None  # an extension's resolve hook wraps every field, plain ones too
        key = (object_type, id(field_details_list))
        cached = self.plans.get(key)
        if cached is not None:
            return cached[1]
        nodes = (object_type, tuple(id(details.node) for details in field_details_list))
        operation_plans = self.cached.plans if self.cached is not None else None
        if operation_plans is not None and nodes in operation_plans:
            plan = operation_plans[nodes]
        else:
            plan = self.compile(object_type, field_details_list)
            if operation_plans is not None:
                operation_plans[nodes] = plan
        # Keeps the list alive with its plan, so that its id is not reused (as graphql-core's
        # own memo of collected fields does).
        self.plans[key] = (field_details_list, plan)
        return plan

    def compile(self, object_type: GraphQLObjectType, field_details_list: Any) -> Plan | None:
        grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        fields: list[Field] = []
        stock: list[tuple[str, Any]] = []
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                fields.append((key, None, object_type.name, None))
                continue
            found = self.plain_field(object_type, name, details)
            if found is None:
                stock.append((key, details))
                fields.append((key, None, None, None))  # its place in the response
            else:
                fields.append((key, *found))
        return Plan(fields, stock)

    def plain_field(
        self, object_type: GraphQLObjectType, name: str, details: Any
    ) -> tuple[Callable[[Any, str], Any], str, Completer] | None:
        """How to read and complete a plain field, or None for one graphql-core executes."""
        field_def = object_type.fields.get(name)
        if field_def is None or field_def.args:
            return None
        for field_details in details:
            node = field_details.node
            if node.arguments or any(
                d.name.value not in _SKIP_INCLUDE for d in node.directives or ()
            ):
                return None
        strawberry_field = field_def.extensions.get("strawberry-definition")
        if strawberry_field is None:
            return None
        if strawberry_field.is_basic_field and is_default_resolver(field_def.resolve):
            read, attribute = strawberry_field.default_resolver, strawberry_field.python_name
        elif (attribute := _plain_attribute(strawberry_field, field_def)) is not None:
            read = getattr
        else:
            return None
        completer = self.completer(field_def.type, details, non_null=False)
        if completer is None:
            return None
        return read, attribute, completer

    def completer(
        self, output_type: GraphQLOutputType, details: Any, *, non_null: bool
    ) -> Completer | None:
        if isinstance(output_type, GraphQLNonNull):
            return self.completer(output_type.of_type, details, non_null=True)
        if isinstance(output_type, GraphQLList):
            item = self.completer(output_type.of_type, details, non_null=False)
            return ListOf(item, non_null) if item is not None else None
        if is_leaf_type(output_type):
            return Leaf(output_type, non_null)
        if isinstance(output_type, GraphQLObjectType):
            if output_type.is_type_of is not None and iscoroutinefunction(output_type.is_type_of):
                return None
            plan = self.plan(output_type, details)
            if plan is None or plan.stock:
                return None  # not all plain: completed by graphql-core, then by its own plan
            return Object(output_type, plan, non_null)
        return None  # interfaces and unions: graphql-core resolves the type

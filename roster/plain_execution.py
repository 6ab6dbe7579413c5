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

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from inspect import iscoroutinefunction
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel, is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Values that are never awaitable, to skip that check on the common ones.
_PLAIN_VALUES = frozenset({str, int, float, bool, datetime, date, dict, list})
_SKIP_INCLUDE = frozenset({"skip", "include"})


class Irregular(Exception):
    """A value the plan does not complete the way the stock path would."""


class Leaf:
    __slots__ = ("coerce", "non_null")

    def __init__(self, leaf: GraphQLLeafType, non_null: bool) -> None:
        self.coerce = leaf.coerce_output_value
        self.non_null = non_null

    def complete(self, value: Any) -> Any:
        if value is None or value is Undefined:
            if self.non_null:
                raise Irregular
            return None
        if value.__class__ not in _PLAIN_VALUES and (
            isinstance(value, Exception) or is_awaitable(value)
        ):
            raise Irregular
        coerced = self.coerce(value)
        if coerced is None or coerced is Undefined:
            raise Irregular
        return coerced


class ListOf:
    __slots__ = ("item", "non_null")

    def __init__(self, item: "Completer", non_null: bool) -> None:
        self.item = item
        self.non_null = non_null

    def complete(self, value: Any) -> Any:
        if value is None or value is Undefined:
            if self.non_null:
                raise Irregular
            return None
        if value.__class__ is not list:  # any other iterable: the stock path knows them all
            raise Irregular
        complete = self.item.complete
        return [complete(item) for item in value]


class Object:
    """A nested object whose selected fields are all plain."""

    __slots__ = ("plan", "non_null", "is_type_of")

    def __init__(self, object_type: GraphQLObjectType, plan: "Plan", non_null: bool) -> None:
        self.plan = plan
        self.non_null = non_null
        self.is_type_of = object_type.is_type_of

    def complete(self, value: Any) -> Any:
        if value is None or value is Undefined:
            if self.non_null:
                raise Irregular
            return None
        # Strawberry's is_type_of is an isinstance check that ignores its info.
        if self.is_type_of is not None and self.is_type_of(value, None) is not True:  # type: ignore[arg-type]
            raise Irregular
        return self.plan.complete(value)


Completer = Leaf | ListOf | Object
# Response key, attribute reader, attribute name, completer; for __typename and the place of a
# stock field, no reader and the value itself (the type's name, None) instead of the name.
Field = tuple[str, Callable[[Any, str], Any] | None, Any, Completer | None]


class Plan:
    """How to complete one object type's selection: its plain fields, read and serialised,
    and the response keys of the others, which graphql-core executes (`stock`)."""

    __slots__ = ("fields", "stock")

    def __init__(self, fields: list[Field], stock: list[tuple[str, Any]]) -> None:
        self.fields = fields
        self.stock = stock

    def complete(self, source: Any) -> dict[str, Any]:
        """The plain fields' values, with None in place of the stock ones, in response order."""
        values: dict[str, Any] = {}
        for key, read, name, completer in self.fields:
            if read is not None and completer is not None:
                values[key] = completer.complete(read(source, name))
            else:  # __typename, or a stock field's place
                values[key] = name
        return values


class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with objects completed by plans where they can be."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Plans by object type and field group, which graphql-core keeps for the request.
        self.plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan | None]] = {}

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
        plan = self.compile(object_type, field_details_list)
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
        if (
            strawberry_field is None
            or not strawberry_field.is_basic_field
            or not getattr(field_def.resolve, "_is_default", False)
        ):
            return None
        completer = self.completer(field_def.type, details, non_null=False)
        if completer is None:
            return None
        return strawberry_field.default_resolver, strawberry_field.python_name, completer

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

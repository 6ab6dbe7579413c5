"""How plain data is completed: a plan per object type and selection, compiled to one function
of straight-line code (plain_execution.py says when a plan applies and why it is exact).

Each plain field of a plan is an attribute read and its value's completion; a String or ID
field holding a str, or a Boolean holding a bool, is its own completion (graphql-core's
serialisers return such values as they are), so the generated code keeps them without a call.
Anything else goes through the field's completer, which raises Irregular where the stock path
would answer otherwise."""

import keyword
from collections.abc import Callable
from datetime import date, datetime, time
from enum import EnumMeta
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLString,
)
from graphql.pyutils import Undefined, is_awaitable
from strawberry.schema.types.base_scalars import isoformat

# Values that are never awaitable, to skip that check on the common ones.
_PLAIN_VALUES = frozenset({str, int, float, bool, datetime, date, dict, list})
# The classes whose values Strawberry's isoformat serialiser turns into their isoformat().
_ISO_CLASSES = frozenset({datetime, date, time})
# Leaf types whose serialiser returns a value of this class unchanged.
_SELF_SERIALISED: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}


class Irregular(Exception):
    """A value the plan does not complete the way the stock path would."""


class Leaf:
    __slots__ = ("coerce", "enum_names", "iso_classes", "non_null", "self_serialised")

    def __init__(self, leaf: GraphQLLeafType, non_null: bool) -> None:
        self.coerce = leaf.coerce_output_value
        self.non_null = non_null
        self.self_serialised = _SELF_SERIALISED.get(leaf)
        self.enum_names = _enum_names(leaf)
        # Strawberry's DateTime, Date and Time serialise with the value's isoformat().
        self.iso_classes = _ISO_CLASSES if self.coerce is isoformat else None

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


def _enum_names(leaf: GraphQLLeafType) -> tuple[type, dict[Any, str]] | None:
    """For a Strawberry enum, its Python class and the name of each member, as Strawberry's
    serialiser finds it (the first value equal to the member's)."""
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return None
    names: dict[Any, str] = {}
    members: list[Any] = list(wrapped)
    for member in members:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[member] = name
                break
    # A member without a name is the serialiser's to refuse.
    return (wrapped, names) if len(names) == len(members) else None


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
    and the response keys of the others, which graphql-core executes (`stock`).

    `complete(source)` gives the plain fields' values, with None in place of the stock ones,
    in response order."""

    __slots__ = ("complete", "fields", "stock")

    def __init__(self, fields: list[Field], stock: list[tuple[str, Any]]) -> None:
        self.fields = fields
        self.stock = stock
        self.complete: Callable[[Any], dict[str, Any]] = _compiled(fields)


def _compiled(fields: list[Field]) -> Callable[[Any], dict[str, Any]]:
    """The plan's completion as one Python function: per field, `v = source.attribute`, then
    `v` itself where it serialises to itself, else its completer's result."""
    namespace: dict[str, Any] = {}
    lines = ["def complete(source):", "    values = {}"]
    for i, (key, read, name, completer) in enumerate(fields):
        target = f"    values[{key!r}]"
        if read is None or completer is None:  # __typename, or a stock field's place
            namespace[f"constant{i}"] = name
            lines.append(f"{target} = constant{i}")
            continue
        if read is getattr and name.isidentifier() and not keyword.iskeyword(name):
            lines.append(f"    v = source.{name}")
        else:
            namespace[f"read{i}"], namespace[f"name{i}"] = read, name
            lines.append(f"    v = read{i}(source, name{i})")
        namespace[f"complete{i}"] = completer.complete
        same = completer.self_serialised if isinstance(completer, Leaf) else None
        enum = completer.enum_names if isinstance(completer, Leaf) else None
        iso = completer.iso_classes if isinstance(completer, Leaf) else None
        if same is not None:
            namespace[f"class{i}"] = same
            lines.append(f"{target} = v if v.__class__ is class{i} else complete{i}(v)")
        elif enum is not None:
            namespace[f"class{i}"], namespace[f"names{i}"] = enum
            lines.append(f"{target} = names{i}[v] if v.__class__ is class{i} else complete{i}(v)")
        elif iso is not None:
            namespace[f"classes{i}"] = iso
            lines.append(
                f"{target} = v.isoformat() if v.__class__ in classes{i} else complete{i}(v)"
            )
        else:
            lines.append(f"{target} = complete{i}(v)")
    lines.append("    return values")
    exec("\n".join(lines), namespace)  # noqa: S102 - code made of names and repr() keys only
    complete: Callable[[Any], dict[str, Any]] = namespace["complete"]
    return complete

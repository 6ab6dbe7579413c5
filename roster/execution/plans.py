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


def _enum_names(leaf: GraphQLLeafType) -> tuple[type, dict[int, str]] | None:
    """For a Strawberry enum, its Python class and the name of each member by the member's id
    (hashing a member calls Enum.__hash__, in Python), as Strawberry's serialiser finds it (the
    first value equal to the member's)."""
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return None
    names: dict[int, str] = {}
    members: list[Any] = list(wrapped)
    for member in members:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[id(member)] = name  # members live as long as their class
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
    """The plan's completion as one Python function of straight-line code: per field,
    `v = source.attribute`, then `v` itself where it serialises to itself, else its
    serialisation; nested objects and lists of them inlined, plan within plan, so that a page
    of users is one loop rather than a few calls per user."""
    code = _Code()
    code.add(0, "def complete(source):")
    values = _emit_plan(code, fields, "source", 1)
    code.add(1, f"return {values}")
    exec("\n".join(code.lines), code.namespace)  # noqa: S102 - made of names and repr() keys
    complete: Callable[[Any], dict[str, Any]] = code.namespace["complete"]
    return complete


def compiled_completer(completer: Completer) -> Callable[[Any], Any]:
    """The completer's `complete` as one generated function, nested plans inlined."""
    code = _Code()
    code.add(0, "def complete(value):")
    _emit_value(code, completer, "value", "done", 1)
    code.add(1, "return done")
    exec("\n".join(code.lines), code.namespace)  # noqa: S102 - made of names and repr() keys
    complete: Callable[[Any], Any] = code.namespace["complete"]
    return complete


class _Code:
    """The lines of a generated function, and the objects its names stand for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"Irregular": Irregular, "Undefined": Undefined}
        self.count = 0

    def var(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def name(self, prefix: str, value: Any) -> str:
        """A name for `value` in the generated code."""
        name = self.var(prefix)
        self.namespace[name] = value
        return name

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _emit_plan(code: _Code, fields: list[Field], source: str, indent: int) -> str:
    """Lines completing the object in `source` by a plan's fields into a new dict, whose
    variable they return."""
    values = code.var("values")
    code.add(indent, f"{values} = {{}}")
    for key, read, name, completer in fields:
        target = f"{values}[{key!r}]"
        if read is None or completer is None:  # __typename, or a stock field's place
            code.add(indent, f"{target} = {code.name('constant', name)}")
            continue
        v = code.var("v")
        if read is getattr and name.isidentifier() and not keyword.iskeyword(name):
            code.add(indent, f"{v} = {source}.{name}")
        else:
            reader, attribute = code.name("read", read), code.name("name", name)
            code.add(indent, f"{v} = {reader}({source}, {attribute})")
        _emit_value(code, completer, v, target, indent)
    return values


def _emit_value(code: _Code, completer: Completer, v: str, target: str, indent: int) -> None:
    """Lines setting `target` to the completion of the value in `v`: what the completer's
    `complete` returns, or raises."""
    complete = code.name("complete", completer.complete)
    if isinstance(completer, Leaf):
        if completer.self_serialised is not None:
            same = code.name("class", completer.self_serialised)
            code.add(indent, f"{target} = {v} if {v}.__class__ is {same} else {complete}({v})")
        elif completer.enum_names is not None:
            enum, names = completer.enum_names
            member, name = code.name("class", enum), code.name("names", names)
            line = f"{name}[id({v})] if {v}.__class__ is {member} else {complete}({v})"
            code.add(indent, f"{target} = {line}")
        elif completer.iso_classes is not None:
            classes = code.name("classes", completer.iso_classes)
            line = f"{v}.isoformat() if {v}.__class__ in {classes} else {complete}({v})"
            code.add(indent, f"{target} = {line}")
        else:
            code.add(indent, f"{target} = {complete}({v})")
    elif isinstance(completer, Object):
        code.add(indent, f"if {v} is None or {v} is Undefined:")
        code.add(indent + 1, "raise Irregular" if completer.non_null else f"{target} = None")
        code.add(indent, "else:")
        if completer.is_type_of is not None:
            # Strawberry's is_type_of is an isinstance check that ignores its info.
            check = code.name("is_type_of", completer.is_type_of)
            code.add(indent + 1, f"if {check}({v}, None) is not True:")
            code.add(indent + 2, "raise Irregular")
        values = _emit_plan(code, completer.plan.fields, v, indent + 1)
        code.add(indent + 1, f"{target} = {values}")
    else:
        # A list, item by item; None, or any other iterable, as ListOf.complete says.
        items, item, done = code.var("items"), code.var("item"), code.var("done")
        code.add(indent, f"if {v}.__class__ is list:")
        code.add(indent + 1, f"{items} = []")
        code.add(indent + 1, f"for {item} in {v}:")
        _emit_value(code, completer.item, item, done, indent + 2)
        code.add(indent + 2, f"{items}.append({done})")
        code.add(indent + 1, f"{target} = {items}")
        code.add(indent, "else:")
        code.add(indent + 1, f"{target} = {complete}({v})")

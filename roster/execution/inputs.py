"""A compiled operation's inputs: its variables coerced, and each root field's arguments, with
what does not depend on the request worked out once.

graphql-core coerces every variable through its type on every request (its signature read from
the document again, the value walked for depth, then coerced), and every argument from the
document's literals. For a variable of a built-in scalar whose value is already what its
coercion returns (a str for String or ID, a bool for Boolean, an int of 32 bits for Int, or a
null for a nullable one), coercion hands the value over unchanged; and an argument written as a
literal coerces to the same value on every request. Those are done here once; anything else —
a variable of another type, a value coercion would change or refuse, a default to apply, a
literal of a mutable kind — takes graphql-core's own coercion for that request, which answers
(and errs) as it always does."""

from collections.abc import Callable
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    VariableNode,
    VariableValues,
    get_argument_values,
    get_variable_values,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValueSource
from graphql.pyutils import Undefined

NO_VARIABLES = VariableValues({}, {})
_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1
# Values that are never changed in place: one argument dict of them serves every request.
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _is_str(value: Any) -> bool:
    return value.__class__ is str


def _is_bool(value: Any) -> bool:
    return value.__class__ is bool


def _is_int(value: Any) -> bool:
    return value.__class__ is int and _MIN_INT <= value <= _MAX_INT


# For each built-in scalar: whether graphql-core's coercion returns a value as it is.
_UNCHANGED: dict[Any, Callable[[Any], bool]] = {
    GraphQLString: _is_str,
    GraphQLID: _is_str,
    GraphQLBoolean: _is_bool,
    GraphQLInt: _is_int,
}


class Variables:
    """Coerces an operation's variables: straight away where each is a built-in scalar given
    as its coercion would return it (or a nullable one left out, without a default), else by
    graphql-core."""

    __slots__ = ("definitions", "schema", "simple")

    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.definitions = operation.variable_definitions or ()
        # Name, its source when left out, whether it may be null, and the check of its value;
        # None where any variable is of another kind.
        self.simple: list[tuple[str, Any, Any, bool, Callable[[Any], bool]]] | None = []
        for definition in self.definitions:
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError):
                self.simple = None
                break
            variable_type, nullable = signature.type, True
            if isinstance(variable_type, GraphQLNonNull):
                variable_type, nullable = variable_type.of_type, False
            check = _UNCHANGED.get(variable_type)
            if check is None or signature.default is not None:
                self.simple = None
                break
            missing = VariableValueSource(signature)
            self.simple.append((signature.name, signature, missing, nullable, check))

    def coerce(self, inputs: dict[str, Any] | None) -> VariableValues | list[GraphQLError]:
        given = inputs or {}
        if self.simple is not None:
            found = self._unchanged(given)
            if found is not None:
                return found
        return get_variable_values(self.schema, self.definitions, given, max_errors=50)

    def _unchanged(self, given: dict[str, Any]) -> VariableValues | None:
        """The variables as graphql-core would coerce them, or None where it would coerce one
        otherwise (or refuse it)."""
        sources: dict[str, Any] = {}
        coerced: dict[str, Any] = {}
        assert self.simple is not None
        for name, signature, missing, nullable, check in self.simple:
            value = given.get(name, Undefined)
            if value is Undefined:
                if not nullable:
                    return None
                sources[name] = missing  # left out: no value at all
                continue
            if value is None:
                if not nullable:
                    return None
            elif not check(value):
                return None
            sources[name] = VariableValueSource(signature, value)
            coerced[name] = value
        return VariableValues(sources, coerced)


def _immutable(value: Any) -> bool:
    return value.__class__ in _IMMUTABLE or isinstance(value, Enum)


def _has_variables(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    values = getattr(node, "values", None) or [f.value for f in getattr(node, "fields", None) or ()]
    return any(_has_variables(v) for v in values)


class Arguments:
    """A root field's arguments for one request: once for all where the document gives them as
    literals of immutable values, else from the coerced variables where each argument is a
    variable (or left out), else by graphql-core."""

    __slots__ = ("constant", "field_def", "node", "taken")

    def __init__(self, field_def: GraphQLField, node: FieldNode) -> None:
        self.field_def = field_def
        self.node = node
        self.constant: dict[str, Any] | None = None
        # Per argument, in the field's order: its Python name, its variable's name (None for
        # a constant), whether it may not be null, and its constant value or default.
        self.taken: list[tuple[str, str | None, bool, Any]] | None = None
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        variables = {name for name, value in given.items() if _has_variables(value)}
        # What graphql-core gives from the literals and defaults (raising here where it would
        # raise on every request: compile() then leaves the operation to the stock path).
        fixed = _coerced(field_def, node, variables)
        if not variables:
            if all(_immutable(v) for v in fixed.values()):
                self.constant = fixed
            return
        taken: list[tuple[str, str | None, bool, Any]] = []
        for name, argument in field_def.args.items():
            out_name = argument.out_name or name
            value = given.get(name)
            if name in variables:
                if not isinstance(value, VariableNode):
                    return  # a variable inside a list or an input object
                default = _default(field_def, node, name)
                if default is not Undefined and not _immutable(default):
                    return
                non_null = isinstance(argument.type, GraphQLNonNull)
                taken.append((out_name, value.name.value, non_null, default))
            elif out_name in fixed:
                if not _immutable(fixed[out_name]):
                    return
                taken.append((out_name, None, False, fixed[out_name]))
        self.taken = taken

    def values(self, variable_values: VariableValues) -> dict[str, Any]:
        if self.constant is not None:
            return self.constant
        if self.taken is not None:
            found = self._from_variables(variable_values.coerced)
            if found is not None:
                return found
        return get_argument_values(self.field_def, self.node, variable_values)

    def _from_variables(self, coerced: dict[str, Any]) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        assert self.taken is not None
        for out_name, variable, non_null, value in self.taken:
            if variable is None:
                values[out_name] = value
                continue
            given = coerced.get(variable, Undefined)
            if given is Undefined:
                if non_null:
                    return None  # graphql-core's error, or its default
                if value is not Undefined:
                    values[out_name] = value  # the argument's default
                continue
            if given is None and non_null:
                return None
            values[out_name] = given
        return values


def _coerced(field_def: GraphQLField, node: FieldNode, left_out: set[str]) -> dict[str, Any]:
    """graphql-core's arguments for the field, but for those named in `left_out`."""
    if left_out:
        kept = {name: a for name, a in field_def.args.items() if name not in left_out}
        field_def = GraphQLField(field_def.type, kept)
        arguments = tuple(a for a in node.arguments or () if a.name.value not in left_out)
        node = FieldNode(alias=node.alias, name=node.name, arguments=arguments)
    return get_argument_values(field_def, node, NO_VARIABLES)


def _default(field_def: GraphQLField, node: FieldNode, name: str) -> Any:
    """The value graphql-core gives the argument when its variable is left out: its default,
    or none (Undefined)."""
    argument = field_def.args[name]
    alone = GraphQLField(field_def.type, {name: argument})
    try:
        found = get_argument_values(alone, FieldNode(name=node.name, arguments=()), NO_VARIABLES)
    except GraphQLError:
        return Undefined  # required: graphql-core's error
    return found.get(argument.out_name or name, Undefined)

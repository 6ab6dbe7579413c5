"""What it costs Strawberry to hand a resolver its arguments, made smaller without changing what
the resolver receives.

graphql-core gives a resolver every argument that has a default, `null` ones included, and
Strawberry converts each on every call: a type walk per argument and a camel-casing of its name,
25 µs for the seven arguments of `users`, where the page's own rows cost about as much. An
argument left at `null` whose Python default is None reaches the resolver as None whether it is
passed or not: those are left out before the conversion, and names are camel-cased once."""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType
from strawberry import Schema
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import StrawberryArgument

Resolver = Callable[..., Any]


class RememberedNames(NameConverter):
    """Strawberry's names, each camel-cased once rather than on every argument's every use."""

    def __init__(self) -> None:
        super().__init__(auto_camel_case=True)
        self.names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self.names.get(name)
        if converted is None:
            converted = self.names[name] = super().apply_naming_config(name)
        return converted


def _passes_as_none(argument: StrawberryArgument) -> bool:
    # Maybe tells an argument given as null from one left out: it must get both as they came.
    return argument.default is None and not argument.is_maybe


def _without_nulls(resolve: Resolver, names: frozenset[str]) -> Resolver:
    def resolve_given(source: Any, info: Any, **args: Any) -> Any:
        return resolve(
            source, info, **{k: v for k, v in args.items() if v is not None or k not in names}
        )

    return resolve_given


def leave_out_null_arguments(schema: Schema) -> None:
    """Wraps each resolver of `schema` that has arguments defaulting to None so that
    graphql-core's `null` for them is not passed on: Strawberry then neither converts them nor
    their names."""
    names = schema.config.name_converter
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or field.resolve is None or not field.args:
                continue
            droppable = frozenset(
                names.get_graphql_name(argument)
                for argument in definition.arguments
                if _passes_as_none(argument)
            )
            if droppable:
                field.resolve = _without_nulls(field.resolve, droppable)

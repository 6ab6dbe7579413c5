"""What it costs Strawberry to hand a resolver its arguments, made smaller without changing what
the resolver receives.

graphql-core gives a resolver every argument that has a default, `null` ones included, and
Strawberry converts each on every call: a type walk per argument and a camel-casing of its name,
25 µs for the seven arguments of `users`, where the page's own rows cost about as much. An
argument left at `null` whose Python default is None reaches the resolver as None whether it is
passed or not: those are left out before the conversion, and names are camel-cased once.

A field whose arguments are all plain scalars (String, ID, Int, Float, Boolean, or nullable
ones), with no extension or permission, is called directly: Strawberry's conversion hands such
values over unchanged, so what remains of its wrapper is renaming the arguments, adding the
source and the info where the resolver asks for them, and awaiting; done here with all of that
worked out once per field, instead of per call (8% of a lone user's instructions). So is a
field whose other arguments (input objects, enums, lists, which Strawberry converts) all
default to None, on every call that leaves them out or null (`users` without a filter or an
order); a call giving one goes through Strawberry's wrapper. The compiled path (compiled.py)
calls the DirectCall of a root field itself, without graphql-core's resolver around it."""

from collections.abc import Callable
from inspect import isawaitable
from typing import Any, cast

import strawberry
from graphql import GraphQLField, GraphQLObjectType
from strawberry import Schema
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]

# What Strawberry's argument conversion returns as graphql-core coerced it.
_PASSED_AS_IS: frozenset[object] = frozenset({str, int, float, bool, strawberry.ID})


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


def _droppable(field: StrawberryField, names: NameConverter) -> frozenset[str]:
    """The GraphQL names of the field's arguments that may be left out when null."""
    return frozenset(names.from_argument(a) for a in field.arguments if _passes_as_none(a))


def _passed_as_is(argument: StrawberryArgument) -> bool:
    argument_type = argument.type
    if isinstance(argument_type, StrawberryMaybe):
        return False  # wrapped in Some
    if isinstance(argument_type, StrawberryOptional):
        argument_type = argument_type.of_type
    return argument_type in _PASSED_AS_IS


def _without_nulls(resolve: Resolver, names: frozenset[str]) -> Resolver:
    def resolve_given(source: Any, info: Any, **args: Any) -> Any:
        return resolve(
            source, info, **{k: v for k, v in args.items() if v is not None or k not in names}
        )

    return resolve_given


class DirectCall:
    """A field's resolver called as Strawberry's wrapper would call it, for a field whose
    arguments Strawberry would pass on as they are (or, for those it would convert, that
    default to None: a call that gives one of those a value goes to Strawberry's wrapper)."""

    def __init__(
        self, field: StrawberryField, names: NameConverter, info_class: type, stock: Resolver
    ) -> None:
        resolver = field.base_resolver
        assert resolver is not None
        self.field = field
        self.info_class = info_class
        self.python_names = {names.from_argument(a): a.python_name for a in field.arguments}
        self.droppable = _droppable(field, names)
        # Arguments Strawberry converts (input objects, enums, lists): left out or null here.
        self.converted = tuple(
            names.from_argument(a) for a in field.arguments if not _passed_as_is(a)
        )
        self.stock = _without_nulls(stock, self.droppable)
        self.takes_self = resolver.self_parameter is not None
        # Where the resolver takes the source (parent, root) or the info, by keyword.
        self.source_names = [
            p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
        ]
        self.info_name = resolver.info_parameter.name if resolver.info_parameter else None
        # The function itself, where Strawberry's get_result only calls it (a field class that
        # does more has its get_result called).
        function = resolver.wrapped_func
        plain = type(field).get_result is StrawberryField.get_result and callable(function)
        self.function = cast("Resolver", function) if plain else None

    def __call__(self, source: Any, info: Any, args: dict[str, Any]) -> Any:
        for name in self.converted:
            if args.get(name) is not None:
                return self.stock(source, info, **args)
        droppable, python_names = self.droppable, self.python_names
        kwargs = {
            python_names[k]: v for k, v in args.items() if v is not None or k not in droppable
        }
        for name in self.source_names:
            kwargs[name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        if self.function is not None:
            return self.function(source, **kwargs) if self.takes_self else self.function(**kwargs)
        return self.field.get_result(source, None, [source] if self.takes_self else [], kwargs)


def _direct_resolver(call: DirectCall) -> Resolver:
    """graphql-core's resolver for a DirectCall; the compiled path (compiled.py) finds the
    DirectCall on it and calls it without this wrapper."""
    if not call.field.is_async:

        def resolve(source: Any, info: Any, **args: Any) -> Any:
            return call(source, info, args)

        resolve.direct_call = call  # type: ignore[attr-defined]
        return resolve

    async def resolve_async(source: Any, info: Any, **args: Any) -> Any:
        result = call(source, info, args)
        return await result if isawaitable(result) else result

    resolve_async.direct_call = call  # type: ignore[attr-defined]
    return resolve_async


def direct_call(resolve: Resolver | None) -> DirectCall | None:
    """The DirectCall behind a resolver made by _direct_resolver."""
    found = getattr(resolve, "direct_call", None)
    return found if isinstance(found, DirectCall) else None


def _called_directly(field: StrawberryField) -> bool:
    return (
        field.base_resolver is not None
        and not field.extensions
        and not field.permission_classes
        and all(_passed_as_is(a) or _passes_as_none(a) for a in field.arguments)
    )


def _lighter_resolver(schema: Schema, field: GraphQLField) -> Resolver | None:
    definition = field.extensions.get("strawberry-definition")
    if definition is None or field.resolve is None or not field.args:
        return None
    names = schema.config.name_converter
    if not schema.exception_handlers and _called_directly(definition):
        info_class = schema.config.info_class
        return _direct_resolver(DirectCall(definition, names, info_class, field.resolve))
    droppable = _droppable(definition, names)
    return _without_nulls(field.resolve, droppable) if droppable else None


def hand_over_arguments_lightly(schema: Schema) -> None:
    """Replaces the resolvers of `schema`'s fields with arguments: called directly where their
    arguments are plain scalars, else wrapped so that graphql-core's `null` for arguments
    defaulting to None is not passed on, and Strawberry neither converts them nor their names."""
    subscription = schema._schema.subscription_type
    for graphql_type in schema._schema.type_map.values():
        if (
            not isinstance(graphql_type, GraphQLObjectType)
            or graphql_type.name.startswith("__")
            # A subscription's resolver is its `subscribe`; its `resolve` hands on each event.
            or graphql_type is subscription
        ):
            continue
        for field in graphql_type.fields.values():
            resolve = _lighter_resolver(schema, field)
            if resolve is not None:
                field.resolve = resolve

"""Documents Roster has parsed and validated once, remembered by their text, so that a request
sending one again runs it straight away.

Strawberry runs every request through its extension hooks — parse (a cache hit, here), check the
operation type, validate (a cache hit too), execute, then mask errors — about a third of the
CPU of a small query. A document that has passed all of that once is valid for every later
request: validation depends on the schema and on the rules, and the only rule that depends on
the caller (introspection, for admins only) concerns documents naming `__schema` or `__type`,
which are never remembered. So the engine (engine.py) runs a remembered document with graphql-core
directly, and handles its errors as the extensions would (logged, masked, suggestions hidden);
anything else — a new document, an operation name it lacks, an operation type the transport does
not allow — takes Strawberry's way, which answers it as it always has."""

import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    default_field_resolver,
    default_type_resolver,
    get_variable_values,
)
from graphql.execution.collect_fields import FragmentDetails
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from roster.execution.compiled import CompiledOperation

# Introspection fields (`__typename` is not one, and does not match).
INTROSPECTION = re.compile(r"__(schema|type)\b")
EXECUTABLE = frozenset({OperationType.QUERY, OperationType.MUTATION})


class Prepared:
    """A valid document, its operations by name and its fragments: what graphql-core's
    Executor.build would look up in it on every request."""

    __slots__ = ("compiled", "document", "fragment_definitions", "fragments", "nodes", "operations")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.nodes: dict[str | None, OperationDefinitionNode] = {}
        self.fragment_definitions: dict[str, FragmentDefinitionNode] = {}
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for definition in definitions:
            if definition.name is not None:
                self.nodes[definition.name.value] = definition
        if len(definitions) == 1:
            # The only operation runs without a name too.
            self.nodes[None] = definitions[0]
        for fragment in document.definitions:
            if isinstance(fragment, FragmentDefinitionNode):
                self.fragment_definitions[fragment.name.value] = fragment
        # Without variable signatures: fragments take no variables outside graphql-core's
        # experimental syntax, which Strawberry's parser does not turn on.
        self.fragments = {
            name: FragmentDetails(fragment) for name, fragment in self.fragment_definitions.items()
        }
        self.operations = {
            name: OperationType(node.operation.value) for name, node in self.nodes.items()
        }
        # By operation name: the schema it was compiled for and the compiled operation, None
        # for one left to run(); made when the operation first runs prepared.
        self.compiled: dict[str | None, tuple[GraphQLSchema, CompiledOperation | None]] = {}

    def operation_type(self, operation_name: str | None) -> OperationType | None:
        return self.operations.get(operation_name)

    def compiled_operation(
        self, schema: GraphQLSchema, operation_name: str | None
    ) -> CompiledOperation | None:
        """The operation compiled (compiled.py) for this schema, or None where it runs the
        prepared way (run)."""
        found = self.compiled.get(operation_name)
        if found is not None and found[0] is schema:
            return found[1]
        compiled = CompiledOperation.compile(
            schema, self.nodes[operation_name], self.fragment_definitions, self.fragments
        )
        self.compiled[operation_name] = (schema, compiled)
        return compiled

    def run(  # noqa: PLR0913
        self,
        schema: GraphQLSchema,
        executor_class: type[Executor[Any]],
        operation_name: str | None,
        *,
        root_value: Any,
        context_value: Any,
        variable_values: dict[str, Any] | None,
        is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """What graphql-core's execute does with the operation, without its look-ups of the
        operation and the fragments (done once, here) or its checks of the schema (done when
        the document first ran): the variables coerced, then the operation executed."""
        operation = self.nodes[operation_name]
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), variable_values or {}, max_errors=50
        )
        if isinstance(coerced, list):
            return ExecutionResult(None, errors=coerced)
        executor = executor_class(
            schema,
            self.fragment_definitions,
            self.fragments,
            root_value,
            context_value,
            operation,
            coerced,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            is_awaitable=is_awaitable,
        )
        return executor.execute_operation()  # type: ignore[return-value]


class PreparedDocuments:
    """The last `maxsize` valid documents, by their text."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self.documents: OrderedDict[str, Prepared] = OrderedDict()

    def get(self, query: str | None) -> Prepared | None:
        if query is None:
            return None
        prepared = self.documents.get(query)
        if prepared is not None:
            self.documents.move_to_end(query)
        return prepared

    def remember(self, query: str, document: DocumentNode) -> None:
        if query in self.documents or INTROSPECTION.search(query):
            return
        self.documents[query] = Prepared(document)
        if len(self.documents) > self.maxsize:
            self.documents.popitem(last=False)


class RememberValidDocuments(SchemaExtension):
    """Remembers each document that passed validation, after the other extensions' checks
    (token limit, depth, aliases, cost) ran as validation rules or while parsing."""

    def __init__(self, documents: PreparedDocuments) -> None:
        self.documents = documents

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = context.pre_execution_errors
        if (
            errors is not None
            and not errors
            and context.query is not None
            and context.graphql_document is not None
        ):
            self.documents.remember(context.query, context.graphql_document)

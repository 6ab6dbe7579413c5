"""Documents Roster has parsed and validated once, remembered by their text, so that a request
sending one again runs it straight away.

Strawberry runs every request through its extension hooks — parse (a cache hit, here), check the
operation type, validate (a cache hit too), execute, then mask errors — about a third of the
CPU of a small query. A document that has passed all of that once is valid for every later
request: validation depends on the schema and on the rules, and the only rule that depends on
the caller (introspection, for admins only) concerns documents naming `__schema` or `__type`,
which are never remembered. So RosterSchema.execute runs a remembered document with graphql-core
directly, and handles its errors as the extensions would (logged, masked, suggestions hidden);
anything else — a new document, an operation name it lacks, an operation type the transport does
not allow — takes Strawberry's way, which answers it as it always has."""

import re
from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

# Introspection fields (`__typename` is not one, and does not match).
INTROSPECTION = re.compile(r"__(schema|type)\b")
EXECUTABLE = frozenset({OperationType.QUERY, OperationType.MUTATION})


class Prepared:
    """A valid document and the type of each of its operations, by name."""

    __slots__ = ("document", "operations")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.operations: dict[str | None, OperationType] = {}
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for definition in definitions:
            kind = OperationType(definition.operation.value)
            if definition.name is not None:
                self.operations[definition.name.value] = kind
        if len(definitions) == 1:
            # The only operation runs without a name too.
            self.operations[None] = OperationType(definitions[0].operation.value)

    def operation_type(self, operation_name: str | None) -> OperationType | None:
        return self.operations.get(operation_name)


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

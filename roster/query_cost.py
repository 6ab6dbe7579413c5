"""A query's cost, estimated before it runs, and the validation rule that holds it to a budget.

Every selected field costs 1, and what is selected under a list counts once for each item the
list may hold: for a page, its `first` or `last` (the default page size when neither is given);
for a list of objects looked up by id (`nodes(ids:)`), the length of `ids`; for a list without
paging (a user's roles, the platforms), UNPAGED_LIST_SIZE. A page also costs ROW_COST for each
row it reads, whatever is selected of them, and so does each id looked up: measured, a row read
(SQL, edge, cursor) costs as much as some ten resolved fields, and thirty aliases of
`users(first: 100) { totalCount }` took twice as long as the largest page with every field. So
aliases of big pages add up, and so do lists inside lists.

The document is costed once for all requests, so a size a variable gives is costed at the most
it may be (the largest page, MAX_NODE_IDS ids), whatever the variable's default: the request
may send another value. An inline `ids` list longer than MAX_NODE_IDS is refused here, with
TOO_MANY_IDS; a variable's, by `nodes` before it reads any (resolvers/id_lists.py).

The rule runs with graphql-core's validation, whose results Strawberry caches per document and
rule set: a document's cost is worked out once, not on every request."""

import copy
from collections.abc import Callable
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    VisitorAction,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)

from resolvers.id_lists import MAX_NODE_IDS, TOO_MANY_IDS
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The items assumed for a list that has no paging arguments.
UNPAGED_LIST_SIZE = 10
# The cost of each row a page reads, in resolved fields.
ROW_COST = 10
PAGE_ARGUMENTS = ("first", "last")
# The argument of a list field that names each item it holds.
IDS_ARGUMENT = "ids"


def query_cost(schema: GraphQLSchema, document: DocumentNode) -> int:
    """The cost of the document's costliest operation."""
    return _Estimate(schema, document).document()


class QueryCostRule(ValidationRule):
    """Refuses a document whose cost is over `budget`; made with `cost_rule`."""

    budget = 0

    def enter_document(self, node: DocumentNode, *_: Any) -> VisitorAction:
        estimate = _Estimate(self.context.schema, node)
        cost = estimate.document()
        for field, count in estimate.long_ids.values():
            self.report_error(
                GraphQLError(
                    f"{count:,} ids given; at most {MAX_NODE_IDS:,} at once.",
                    field,
                    extensions={"code": TOO_MANY_IDS, "count": count, "limit": MAX_NODE_IDS},
                )
            )
        if cost > self.budget:
            self.report_error(
                GraphQLError(
                    f"This query costs {cost:,}, over the budget of {self.budget:,} (each field "
                    "counts once per item of the lists above it, each row a page reads counts "
                    f"{ROW_COST}): ask for smaller pages, fewer fields or fewer aliases.",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "budget": self.budget},
                )
            )
        return SKIP


def cost_rule(budget: int) -> type[QueryCostRule]:
    return type("QueryCostRule", (QueryCostRule,), {"budget": budget})


def coded_rule(rule: type[ValidationRule], code: str) -> type[ValidationRule]:
    """`rule`, its refusals carrying `extensions.code` (Strawberry's depth and alias limits give
    none): a client tells a refused document by its code, not by its message. Those rules report
    through the validation context they are given, so they are given one whose errors are
    coded first."""

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            coded = copy.copy(context)
            coded.on_error = _WithCode(context.on_error, code)  # type: ignore[method-assign]
            super().__init__(coded)

    Coded.__name__ = f"{rule.__name__}Coded"
    return Coded


class _WithCode:
    """Gives each error a code, then reports it as the context would have."""

    def __init__(self, report: Callable[[GraphQLError], None], code: str) -> None:
        self.report = report
        self.code = code

    def __call__(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self.code}
        self.report(error)


class _Estimate:
    """Costs the operations of one document, each fragment once per page size it is used at."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.definitions = document.definitions
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        # Inline `ids` lists over MAX_NODE_IDS, by their field's node (each once, however
        # often a fragment is costed).
        self.long_ids: dict[int, tuple[FieldNode, int]] = {}
        # Memoised: a fragment spread twice in each of ten nested fragments is costed ten
        # times, not 2**10.
        self.fragment_costs: dict[tuple[str, int | None], int] = {}
        self.expanding: set[str] = set()

    def document(self) -> int:
        """The cost of the document's costliest operation."""
        return max(
            (
                self.operation(definition)
                for definition in self.definitions
                if isinstance(definition, OperationDefinitionNode)
            ),
            default=0,
        )

    def operation(self, node: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(node.operation)
        return self.selections(node.selection_set, root, None)

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int | None,
    ) -> int:
        """`page`: the size of the page `parent` is the connection of, if it is one."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = self.type_of(selection.type_condition) or parent
                total += self.selections(selection.selection_set, condition, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, page)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> int:
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if definition is None:
            # __typename, introspection, or a field other rules report as unknown.
            return 1 + self.selections(node.selection_set, None, None)
        named = get_named_type(definition.type)
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            size = self.page_size(node)
            return 1 + size * ROW_COST + self.selections(node.selection_set, named, size)
        items = 1
        if is_list_type(get_nullable_type(definition.type)) and not is_leaf_type(named):
            if IDS_ARGUMENT in definition.args:
                count = self.ids_count(node)
                return 1 + count * (ROW_COST + self.selections(node.selection_set, named, None))
            items = page if page is not None else UNPAGED_LIST_SIZE
        return 1 + items * self.selections(node.selection_set, named, None)

    def spread(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key not in self.fragment_costs:
            fragment = self.fragments.get(name)
            if fragment is None or name in self.expanding:
                return 0  # unknown or cyclic: other rules report it
            self.expanding.add(name)
            try:
                condition = self.type_of(fragment.type_condition)
                self.fragment_costs[key] = self.selections(fragment.selection_set, condition, page)
            finally:
                self.expanding.discard(name)
        return self.fragment_costs[key]

    def page_size(self, node: FieldNode) -> int:
        sizes = [
            self.size_of(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in PAGE_ARGUMENTS
        ]
        return max(sizes, default=DEFAULT_PAGE_SIZE)

    def ids_count(self, node: FieldNode) -> int:
        """The ids a field looks up: an inline list's length (noted when over the limit), the
        most a variable may hold."""
        value = next((a.value for a in node.arguments or () if a.name.value == IDS_ARGUMENT), None)
        if isinstance(value, VariableNode):
            return MAX_NODE_IDS
        if isinstance(value, ListValueNode):
            count = len(value.values)
            if count > MAX_NODE_IDS:
                self.long_ids[id(node)] = (node, count)
            return count
        # Absent (reported by another rule), null, or one value, which GraphQL reads as a list
        # of one.
        return 0 if value is None or isinstance(value, NullValueNode) else 1

    def size_of(self, value: ValueNode | None) -> int:
        if isinstance(value, VariableNode):
            return MAX_PAGE_SIZE  # whatever its default: a request may send more
        if value is None or isinstance(value, NullValueNode):
            return DEFAULT_PAGE_SIZE
        if isinstance(value, IntValueNode):
            # Beyond these bounds the resolver refuses the page itself (INVALID_PAGINATION).
            return min(max(int(value.value), 0), MAX_PAGE_SIZE)
        return MAX_PAGE_SIZE  # not an Int: reported by another rule

    def type_of(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        return self.schema.get_type(node.name.value) if node is not None else None

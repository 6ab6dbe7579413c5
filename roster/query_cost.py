"""A query's cost, estimated before it runs, and the validation rule that holds it to a budget.

Every selected field costs 1, and what is selected under a list counts once for each item the
list may hold: for a page, its `first` or `last` (the default page size when neither is given,
the largest page when a variable gives it: the document is costed once for all requests); for a
list without paging (a user's roles, the platforms), UNPAGED_LIST_SIZE. A page also costs
ROW_COST for each row it reads, whatever is selected of them: measured, a row read (SQL, edge,
cursor) costs as much as some ten resolved fields, and thirty aliases of `users(first: 100)
{ totalCount }` took twice as long as the largest page with every field. So aliases of big pages
add up, and so do lists inside lists.

The rule runs with graphql-core's validation, whose results Strawberry caches per document and
rule set: a document's cost is worked out once, not on every request."""

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
    NamedTypeNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    VisitorAction,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The items assumed for a list that has no paging arguments.
UNPAGED_LIST_SIZE = 10
# The cost of each row a page reads, in resolved fields.
ROW_COST = 10
PAGE_ARGUMENTS = ("first", "last")


def query_cost(schema: GraphQLSchema, document: DocumentNode) -> int:
    """The cost of the document's costliest operation."""
    estimate = _Estimate(schema, document)
    return max(
        (
            estimate.operation(definition)
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        ),
        default=0,
    )


class QueryCostRule(ValidationRule):
    """Refuses a document whose cost is over `budget`; made with `cost_rule`."""

    budget = 0

    def enter_document(self, node: DocumentNode, *_: Any) -> VisitorAction:
        cost = query_cost(self.context.schema, node)
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


class _Estimate:
    """Costs the operations of one document, each fragment once per page size it is used at."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.defaults: dict[str, ValueNode | None] = {}
        # Memoised: a fragment spread twice in each of ten nested fragments is costed ten
        # times, not 2**10.
        self.fragment_costs: dict[tuple[str, int | None], int] = {}
        self.expanding: set[str] = set()

    def operation(self, node: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(node.operation)
        # Fragments see the operation's variables, and so their defaults: costed anew.
        self.defaults = {
            d.variable.name.value: d.default_value for d in node.variable_definitions or ()
        }
        self.fragment_costs.clear()
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

    def size_of(self, value: ValueNode | None) -> int:
        if isinstance(value, VariableNode):
            default = self.defaults.get(value.name.value)
            return MAX_PAGE_SIZE if default is None else self.size_of(default)
        if value is None or isinstance(value, NullValueNode):
            return DEFAULT_PAGE_SIZE
        if isinstance(value, IntValueNode):
            # Beyond these bounds the resolver refuses the page itself (INVALID_PAGINATION).
            return min(max(int(value.value), 0), MAX_PAGE_SIZE)
        return MAX_PAGE_SIZE  # not an Int: reported by another rule

    def type_of(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        return self.schema.get_type(node.name.value) if node is not None else None

// The users list's query and the variables of its first page. Its value is JSON as well:
// roster/console.py reads it to preload that page (a GET of /graphql) in the page itself,
// list-state.js imports it for the list's own requests. Keep it plain JSON (double quotes,
// no comments or trailing commas inside it).
export default {
  "query": [
    "query Users($first: Int, $after: String, $last: Int, $before: String,",
    "    $search: String, $filter: UserFilter, $orderBy: UserOrder, $withCount: Boolean!) {",
    "  users(first: $first, after: $after, last: $last, before: $before, search: $search,",
    "      filter: $filter, orderBy: $orderBy) {",
    "    edges { node {",
    "      id username firstName lastName email status updatedAt",
    "      roles { role platform { id name } }",
    "    } }",
    "    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }",
    "    count @include(if: $withCount) { value relation }",
    "  }",
    "}"
  ],
  "firstPage": {"first": 50, "after": null, "search": null, "filter": null, "orderBy": {"field": "USERNAME", "direction": "ASC"}, "withCount": true}
};

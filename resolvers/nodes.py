"""`nodes(ids:)`: many objects by global id at once, one query per type."""

import inspect
from collections import defaultdict

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from resolvers.id_lists import MAX_NODE_IDS, too_many
from schema.context import Info


def _node_type(info: Info, global_id: str) -> tuple[type[relay.Node], str] | None:
    """The Node type a global id names and the row id in it; None for a malformed id or a
    type that is not a Node object (an interface, an input)."""
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except ValueError:  # GlobalIDValueError is a ValueError too
        return None
    definition = info.schema.get_type_by_name(parsed.type_name)
    if (
        not isinstance(definition, StrawberryObjectDefinition)
        or definition.is_interface
        or not issubclass(definition.origin, relay.Node)
    ):
        return None
    return definition.origin, parsed.node_id


@strawberry.type
class NodesQuery:
    @strawberry.field(
        description="Objects by global id, in the order of `ids` (at most 100); null for an "
        "unknown, malformed or another organisation's id.",
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        # An inline list is refused by the query cost's rule before anything runs; a variable's
        # is known only now, and refused before any id is read.
        refused = too_many(ids, MAX_NODE_IDS)
        if refused is not None:
            raise refused
        wanted: dict[type[relay.Node], list[str]] = defaultdict(list)
        places: list[tuple[type[relay.Node], int] | None] = []
        for global_id in ids:
            found = _node_type(info, global_id)
            if found is None:
                places.append(None)
                continue
            node_type, node_id = found
            places.append((node_type, len(wanted[node_type])))
            wanted[node_type].append(node_id)
        by_type: dict[type[relay.Node], list[relay.Node | None]] = {}
        for node_type, node_ids in wanted.items():
            # Roster's resolve_nodes are all async, each one query (a DataLoader's load_many).
            nodes = node_type.resolve_nodes(info=info, node_ids=node_ids, required=False)
            by_type[node_type] = list(await nodes if inspect.isawaitable(nodes) else nodes)
        return [by_type[place[0]][place[1]] if place else None for place in places]

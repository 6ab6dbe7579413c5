from collections.abc import Iterable
from uuid import UUID

# Stands in for a malformed id, so that it behaves exactly like an id that does not exist.
NO_SUCH_ID = UUID(int=0)


def node_uuids(node_ids: Iterable[str]) -> list[UUID]:
    out = []
    for node_id in node_ids:
        try:
            out.append(UUID(node_id))
        except ValueError:
            out.append(NO_SUCH_ID)
    return out

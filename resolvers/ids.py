"""Relay global ids: opaque to clients, typed and tenant-checked here; encoded by rules.ids,
which events use too."""

from uuid import UUID

from strawberry import relay

from rules.ids import encode_id

__all__ = ["decode_id", "encode_id"]


def decode_id(value: str, type_name: str) -> UUID | None:
    """The row id inside a global id of `type_name`, or None for anything else (malformed, of
    another type) — which callers then treat exactly like an id that does not exist."""
    try:
        global_id = relay.GlobalID.from_id(value)
        if global_id.type_name != type_name:
            return None
        return UUID(global_id.node_id)
    except ValueError:  # GlobalIDValueError is a ValueError too
        return None

"""Relay global ids, the only ids clients ever see: the base64 of "<type name>:<row id>"."""

import base64
from uuid import UUID


def encode_id(type_name: str, row_id: UUID | str) -> str:
    # Exactly what Strawberry's relay.GlobalID gives as the `id` of every Node, so that an id
    # in an event, a link or a response is the one the API takes back.
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()

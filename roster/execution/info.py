"""Strawberry's Info, naming the field's nodes in the document.

resolvers/selection.py keeps what a field selects by the ids of those nodes (read once per
document, not on every call). Strawberry's Info holds them only in its private `_raw_info`; this
subclass, the schema's `info_class` while the engine is on, names them publicly, so nothing
outside the engine reads a private name. With the engine off, Strawberry's own Info is used and
selection.py reads the selection on every call: the same paths, at more CPU."""

from typing import Any

from graphql import FieldNode
from strawberry import Info


class FieldNodesInfo(Info[Any, Any]):
    @property
    def field_nodes(self) -> list[FieldNode]:
        """The field's nodes in the document (several where it is selected more than once)."""
        return self._raw_info.field_nodes

"""What a query asks of a field: the paths of the sub-fields it selects, read once per document.

Strawberry's `info.selected_fields` converts the field's whole selection on every call (tens of
µs for a page of users, asked several times a request). The selection depends only on the
document's field nodes (fields under @skip or @include count as asked), so it is read once for
those nodes and kept while they are in use. The nodes are named by the execution engine's Info
(roster/execution/info.py); with the engine off, Strawberry's own Info names none, and the
selection is read on every call (the same paths, at more CPU)."""

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

Path = tuple[str, ...]

_MAX_FIELDS = 4096
# By the ids of a field's nodes: the nodes themselves (so that their ids are not reused while
# kept here) and the paths they select.
_selected: OrderedDict[tuple[int, ...], tuple[Any, frozenset[Path]]] = OrderedDict()


def selects(info: Info, *path: str) -> bool:
    """Whether the query asks this field for the sub-field at `path` (field names, not aliases),
    e.g. ("edges", "cursor"), through fragments too."""
    return path in selected_paths(info)


def selected_paths(info: Info) -> frozenset[Path]:
    """Every path of sub-field names this field selects, and each of their prefixes."""
    # The field's nodes in the document (what Strawberry reads selected_fields from), which
    # only the engine's Info names.
    nodes = getattr(info, "field_nodes", None)
    if nodes is None:
        return _read(info)
    key = tuple(id(node) for node in nodes)
    found = _selected.get(key)
    if found is not None:
        _selected.move_to_end(key)
        return found[1]
    paths = _read(info)
    _selected[key] = (nodes, paths)
    if len(_selected) > _MAX_FIELDS:
        _selected.popitem(last=False)
    return paths


def _read(info: Info) -> frozenset[Path]:
    return frozenset(p for field in info.selected_fields for p in _paths(field.selections, ()))


def _paths(selections: Sequence[Selection], prefix: Path) -> Iterator[Path]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = (*prefix, selection.name)
            yield path
            yield from _paths(selection.selections, path)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _paths(selection.selections, prefix)

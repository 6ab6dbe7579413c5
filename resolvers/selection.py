from collections.abc import Sequence

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selects(info: Info, *path: str) -> bool:
    """Whether the query asks this field for the sub-field at `path`, e.g. ("edges", "cursor"),
    through fragments too. Fields under @skip or @include count as asked."""
    return any(_found(field.selections, path) for field in info.selected_fields)


def _found(selections: Sequence[Selection], path: Sequence[str]) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == path[0]:
            if len(path) == 1 or _found(selection.selections, path[1:]):
                return True
        elif isinstance(selection, FragmentSpread | InlineFragment) and _found(
            selection.selections, path
        ):
            return True
    return False

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selects(info: Info, name: str) -> bool:
    """Whether the query asks this field for the sub-field `name` (through fragments too)."""

    def found(selections: list[Selection]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if isinstance(selection, FragmentSpread | InlineFragment) and found(
                selection.selections
            ):
                return True
        return False

    return any(found(field.selections) for field in info.selected_fields)

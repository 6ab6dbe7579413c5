from graphql import GraphQLError
from strawberry.relay import GlobalIDValueError


class BadRequest(GraphQLError):
    """A request the caller has to change (bad paging arguments, a foreign cursor): a GraphQL
    error with a stable code, shown even where unexpected errors are masked."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def should_mask_error(error: GraphQLError) -> bool:
    """Mask what users cannot act on (bugs, outages); keep syntax, validation, permission and
    BadRequest errors, which are GraphQLErrors of their own or have no original error."""
    original = error.original_error
    if isinstance(original, GlobalIDValueError):
        return False  # node(id:) of an id naming no Node type: the caller's mistake
    return original is not None and not isinstance(original, GraphQLError)

"""Who the caller is, as the resolvers need it: what it may do, and the actor it is in the
audit log."""

from typing import Any

from strawberry.permission import BasePermission

from db.events import Actor
from schema.context import Context, Info, Principal


class CanMutate(BasePermission):
    message = "This token is read-only: it cannot change anything."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return can_mutate(info.context.principal)


def can_mutate(principal: Principal | None) -> bool:
    """Whether the caller may change anything: read-only tokens may not. For the plain HTTP
    endpoints too, which have no GraphQL permission classes."""
    return principal is not None and principal.scope == "admin"


def actor_of(context: Context) -> Actor:
    """The caller as the actor of a change, for its events and jobs."""
    caller = context.caller
    return Actor(token_id=caller.token_id, name=caller.token_name)

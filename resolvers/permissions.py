from typing import Any

import strawberry
from strawberry.permission import BasePermission

from schema.context import Context, Principal


class IsAuthenticated(BasePermission):
    message = "A valid token is required."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(
        self, source: Any, info: strawberry.Info[Context, None], **kwargs: Any
    ) -> bool:
        return info.context.principal is not None


class CanMutate(BasePermission):
    message = "This token is read-only: it cannot change anything."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(
        self, source: Any, info: strawberry.Info[Context, None], **kwargs: Any
    ) -> bool:
        return can_mutate(info.context.principal)


def can_mutate(principal: Principal | None) -> bool:
    """Whether the caller may change anything: read-only tokens may not. For the plain HTTP
    endpoints too, which have no GraphQL permission classes."""
    return principal is not None and principal.scope == "admin"

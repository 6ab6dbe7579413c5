import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, cast
from uuid import UUID

import strawberry
from asyncpg import Record
from strawberry import relay
from strawberry.scalars import JSON

from rules.ids import encode_id
from schema.context import PLAIN_ATTRIBUTE, Info, Loaders
from schema.errors import UserError
from schema.node import node_uuids
from schema.pagination import Count, OrderDirection
from schema.platform import Platform


@strawberry.enum
class UserStatus(Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


# By value; None for a row read without its status.
_STATUSES: dict[str | None, Any] = {None: None, **{status.value: status for status in UserStatus}}


@strawberry.type
class PlatformRole:
    role: str
    granted_at: datetime
    # Plain data, read with the role: a resolver per role cost more than the rest of a user.
    platform: Platform


async def load_roles(
    loaders: Loaders, user_ids: list[UUID], *, together: bool = False
) -> list[list[PlatformRole]]:
    """The roles of each user, with their platforms: two queries, however many users.
    `together`: users loaded at once by the caller (a page), read by one query without the
    roles loader's future per user, which then does not batch them with others."""
    if together:
        per_user = await loaders.load_roles(user_ids)
    else:
        per_user = await loaders.roles.load_many(user_ids)
    # A role's platform is deleted with the role: each is there.
    platform_ids = list({r["platform_id"] for rows in per_user for r in rows})
    platforms = {
        row["id"]: Platform.from_row(row)
        for row in await loaders.platforms.load_many(platform_ids)
        if row is not None
    }
    return [
        [
            PlatformRole(
                platform=platforms[r["platform_id"]], role=r["role"], granted_at=r["granted_at"]
            )
            for r in rows
            if r["platform_id"] in platforms
        ]
        for rows in per_user
    ]


@strawberry.type
class User(relay.Node):
    id: relay.NodeID[str]
    # The global id, made once per row: Node's own `id` resolver costs ~13 µs a node, and a
    # field without a resolver is plain data, which the executor completes without one.
    _id: strawberry.ID = strawberry.field(
        name="id", description="The Globally Unique ID of this object"
    )
    username: str
    email: str
    first_name: str
    last_name: str
    language: str | None
    time_zone: str | None
    office_phone: str | None
    mobile_phone: str | None
    location: str | None
    external_id: str | None
    status: UserStatus
    attributes: JSON = strawberry.field(description="Custom profile fields, string to string.")
    has_password: bool
    password_changed_at: datetime | None
    welcome_email_sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None

    # Read with a page of users that asks them (`users`); else each user's are loaded here.
    preloaded_roles: strawberry.Private[list[PlatformRole] | None] = None

    @strawberry.field(metadata={PLAIN_ATTRIBUTE: "preloaded_roles"})
    def roles(self, info: Info) -> list[PlatformRole]:
        if self.preloaded_roles is not None:
            return self.preloaded_roles
        # Not an async resolver, which costs several times a sync one for each user of a page
        # that preloaded them: graphql-core awaits what a resolver returns either way.
        return cast("list[PlatformRole]", self._load_roles(info))

    async def _load_roles(self, info: Info) -> list[PlatformRole]:
        (roles,) = await load_roles(info.context.loaders, [UUID(self.id)])
        return roles

    @classmethod
    def from_row(cls, row: Record) -> "User":
        """A user from a row of db.users.USER_FIELDS, or of some of them and the id (a page
        whose query asks only those): the others are None, and never read.

        Made without __init__, which only assigns each field: a row's columns are named as
        the attributes, and twenty keywords cost more than the rest of a page's row. Columns
        that are no attribute (a page's sort key) come along, unused."""
        user = cls.__new__(cls)
        attributes = user.__dict__
        attributes.update(_BLANK)
        attributes.update(row.items())
        row_id = str(attributes["id"])
        attributes["id"] = row_id
        attributes["_id"] = encode_id("User", row_id)  # relay.to_base64's checks: 3x the cost
        # A dict, not UserStatus(): calling an Enum costs more than the rest of a row.
        attributes["status"] = _STATUSES[attributes["status"]]
        return user

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list["User | None"]:
        rows = await info.context.loaders.users.load_many(node_uuids(node_ids))
        return [cls.from_row(r) if r is not None else None for r in rows]


# Every attribute __init__ gives a User, as a row without its column leaves it.
_BLANK: dict[str, Any] = {field.name: None for field in dataclasses.fields(User) if field.init}


@strawberry.type
class UserConnection(relay.Connection[User]):
    exact_count: strawberry.Private[Callable[[], Awaitable[int]]]
    bounded_count: strawberry.Private[Callable[[], Awaitable[Count]]]

    @strawberry.field(
        description="How many users match, across all pages, exactly. A search or filter that "
        "matches many users costs a full count of them (a quarter of a second at 100,000): "
        "a list to show wants `count`."
    )
    async def total_count(self) -> int:
        return await self.exact_count()

    @strawberry.field(
        description="How many users match, exact up to a bound and flagged above it: fast "
        "however many match."
    )
    async def count(self) -> Count:
        return await self.bounded_count()


@strawberry.enum
class UserOrderField(Enum):
    USERNAME = "USERNAME"
    EMAIL = "EMAIL"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.input
class UserOrder:
    field: UserOrderField
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input(description="Advanced search: every field given must hold.")
class UserFilter:
    status: UserStatus | None = None
    platform: str | None = strawberry.field(
        default=None, description="Users with a role on this platform (key or alias)."
    )
    role: str | None = strawberry.field(
        default=None, description="Users with this role on `platform`, or on any platform."
    )
    email_domain: str | None = strawberry.field(
        default=None, description='Exact domain, case-insensitive: "acme.es".'
    )
    language: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    welcome_email_sent: bool | None = None
    has_password: bool | None = None
    ids: list[strawberry.ID] | None = None


@strawberry.input
class PlatformRoleInput:
    platform: str = strawberry.field(description='Platform key or alias, e.g. "learningcloud".')
    role: str


@strawberry.input
class CreateUserInput:
    username: str
    email: str
    first_name: str
    last_name: str
    language: str | None = None
    time_zone: str | None = None
    office_phone: str | None = None
    mobile_phone: str | None = None
    location: str | None = None
    external_id: str | None = None
    attributes: JSON | None = strawberry.field(
        default=None, description="Custom profile fields, string to string."
    )
    password: str | None = None
    roles: list[PlatformRoleInput] | None = None
    send_welcome_email: bool | None = False


@strawberry.input(description="Fields left out are unchanged; null clears an optional field.")
class UpdateUserInput:
    username: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    office_phone: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    attributes: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="When given, replaces all custom fields."
    )
    roles: list[PlatformRoleInput] | None = strawberry.field(
        default=strawberry.UNSET, description="When given, replaces all roles."
    )


@strawberry.type
class UserPayload:
    user: User | None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UsersPayload:
    users: list[User]
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteUsersPayload:
    deleted_ids: list[strawberry.ID]
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="What the password policy says of a password: `code` and `message` are the "
    "userError that createUser or setPassword would give, null when it is acceptable."
)
class PasswordVerdict:
    acceptable: bool
    code: str | None = None
    message: str | None = None

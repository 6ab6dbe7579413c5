"""A page of users, the `users` connection: its cursor, its counts, its rows and its edges, each
read only as far as the query asks."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from asyncpg import Record
from strawberry import relay
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition

from db import platforms
from db.user_counts import (
    BoundedCount,
    bounded_count,
    count_users,
    count_users_up_to,
    estimate_matches,
)
from db.user_search import UserSearch, list_users
from resolvers.errors import BadRequest
from resolvers.pagination import (
    PageRequest,
    decode_cursor,
    encode_cursor,
    page_request,
    paginate,
)
from resolvers.search import search_fingerprint, user_search
from resolvers.selection import selected_paths, selects
from schema.context import Context, Info, Loaders
from schema.pagination import Count, CountRelation, OrderDirection
from schema.user import (
    PlatformRole,
    User,
    UserConnection,
    UserFilter,
    UserOrder,
    UserOrderField,
    load_roles,
)

# The User attribute under each GraphQL field of plain data: a page reads only the columns of
# those its query asks.
_USER_ATTRIBUTES = {
    NameConverter().get_graphql_name(field): field.python_name
    for field in get_object_definition(User, strict=True).fields
    if field.base_resolver is None
}
_TIME_ORDERS = {UserOrderField.CREATED_AT, UserOrderField.UPDATED_AT}
# The position in a cursor: the row's sort value and id.
Position = tuple[Any, UUID]


@dataclass(frozen=True, slots=True)
class PageArguments:
    """The `users` field's arguments."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None
    search: str | None
    filter: UserFilter | None
    order_by: UserOrder | None


async def users_page(info: Info, arguments: PageArguments) -> UserConnection:
    """The page the arguments ask for, with the counts the query selects."""
    ctx = info.context
    page = page_request(arguments.first, arguments.after, arguments.last, arguments.before)
    order_by = arguments.order_by
    order = order_by.field if order_by else UserOrderField.USERNAME
    descending = bool(order_by and order_by.direction == OrderDirection.DESC)
    criteria = await _criteria(ctx, arguments.search, arguments.filter)
    position = None
    if page.cursor is not None:
        position = _position(ctx, page.cursor, order, descending, criteria)
    counts = _Counts(ctx, criteria)
    user_edges = _UserEdges(info, ctx.cursor_key, order, descending, criteria)
    try:
        many = await counts.start(
            exact=selects(info, "totalCount"),
            bounded=selects(info, "count"),
            first_page=position is None,
        )
        async with ctx.pool.acquire() as conn:
            rows = await list_users(
                conn,
                ctx.tenant_id,
                search=criteria,
                order=order.value,
                # Paging backward reads the same order reversed, then turns the page round.
                descending=descending != page.backward,
                after=position,
                limit=page.size + 1,
                many=many,
                count_matches=counts.from_page,
                fields=user_edges.fields,
            )
        counts.read_from_page(rows)
    except BaseException:
        counts.cancel()
        raise
    await user_edges.preload_roles(ctx.loaders, rows[: page.size])
    edges, page_info = user_edges.paginate(page, rows)
    return UserConnection(
        edges=edges, page_info=page_info, exact_count=counts.total, bounded_count=counts.count
    )


async def _criteria(ctx: Context, search: str | None, filter: UserFilter | None) -> UserSearch:
    # The tenant's platforms are read only when a filter may name one.
    tenant_platforms: list[Record] = []
    if filter:
        async with ctx.pool.acquire() as conn:
            tenant_platforms = await platforms.list_platforms(conn, ctx.tenant_id)
    return user_search(search, filter, tenant_platforms)


def _position(
    ctx: Context, cursor: str, order: UserOrderField, descending: bool, criteria: UserSearch
) -> Position:
    """Where the cursor's page starts; a cursor of another search, filter or order is refused."""
    payload = decode_cursor(ctx.cursor_key, cursor, "users")
    if (payload.get("o"), payload.get("d"), payload.get("f")) != (
        order.value,
        descending,
        search_fingerprint(criteria),
    ):
        raise BadRequest(
            "This cursor belongs to another search, filter or order; start again without it.",
            "INVALID_CURSOR",
        )
    try:
        return (_sort_value(order, payload["v"]), UUID(payload["i"]))
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        # AttributeError: UUID() of a non-string id, e.g. a number.
        raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR") from e


def _sort_value(order: UserOrderField, value: Any) -> Any:
    if order in _TIME_ORDERS:
        return datetime.fromisoformat(value)
    if not isinstance(value, str):
        raise ValueError(value)
    return value


class _UserEdges:
    """The edges of a page of users, with what the query asks of them only: the columns of its
    fields, and cursors where it asks them (a page's cursors cost more than a bare endpoint's
    whole request)."""

    def __init__(
        self, info: Info, key: bytes, order: UserOrderField, descending: bool, criteria: UserSearch
    ):
        self.key = key
        self.order = order
        self.descending = descending
        self.criteria = criteria
        asked = selected_paths(info)
        self.every_cursor = ("edges", "cursor") in asked
        self.page_cursors = ("pageInfo", "startCursor") in asked or (
            "pageInfo",
            "endCursor",
        ) in asked
        self.asks_roles = ("edges", "node", "roles") in asked
        self.fields = asked_fields(info, "edges", "node")
        self.roles: dict[UUID, list[PlatformRole]] = {}

    async def preload_roles(self, loaders: Loaders, rows: Sequence[Record]) -> None:
        """The page's roles at once, when the query asks them: each user's field then only
        hands them over."""
        if self.asks_roles:
            ids = [r["id"] for r in rows]
            roles = await load_roles(loaders, ids, together=True)
            self.roles = dict(zip(ids, roles, strict=True))

    @cached_property
    def position(self) -> dict[str, Any]:
        """What every cursor of the page holds but the row's place: made only for a page that
        makes cursors (its search's digest costs more than a small page's rows)."""
        fingerprint = search_fingerprint(self.criteria)
        return {"k": "users", "o": self.order.value, "d": self.descending, "f": fingerprint}

    def cursor(self, row: Record) -> str:
        return encode_cursor(self.key, {**self.position, "v": row["sort_key"], "i": row["id"]})

    def edge(self, row: Record) -> relay.Edge[User]:
        user = User.from_row(row)
        if self.asks_roles:
            user.preloaded_roles = self.roles.get(row["id"])
        return relay.Edge(cursor=self.cursor(row) if self.every_cursor else "", node=user)

    def paginate(
        self, page: PageRequest, rows: Sequence[Record]
    ) -> tuple[list[relay.Edge[User]], relay.PageInfo]:
        if self.every_cursor:
            return paginate(page, rows, self.edge)
        return paginate(page, rows, self.edge, self.cursor if self.page_cursors else _no_cursor)


def asked_fields(info: Info, *path: str) -> set[str]:
    """The User attributes of the plain fields the query asks at `path` under this field."""
    depth = len(path) + 1
    return {
        _USER_ATTRIBUTES[asked[-1]]
        for asked in selected_paths(info)
        if len(asked) == depth and asked[:-1] == path and asked[-1] in _USER_ATTRIBUTES
    }


def _no_cursor(row: Record) -> None:
    """The page info's cursor where the query asks none."""
    return None


# Filters this few users pass are looked up and sorted rather than met on a walk of the order's
# index, which reads about 51 x users / matches rows: at a million users the two cost the same
# near 7,000 matches.
_FEW_TO_WALK = 5000


@dataclass
class _Counts:
    """The counts of one page of users: those the query asks for start before its rows are
    read (or, for words and filters, first: see `start`); any other is counted when (if ever)
    resolved."""

    ctx: Context
    criteria: UserSearch
    exact: "asyncio.Task[int] | None" = None
    bounded: "asyncio.Task[BoundedCount] | None" = None
    # A count had without a task of its own: estimated, or read with the page.
    known: BoundedCount | None = None
    from_page: bool = False

    async def start(self, *, exact: bool, bounded: bool, first_page: bool) -> bool | None:
        """Starts the counts asked for; returns whether many users match the words, as their
        count says, to choose how the page is read (None: no words, or no count to tell)."""
        if exact:
            self.exact = asyncio.create_task(self._count_all())
        if not bounded:
            return None
        if self.criteria == UserSearch():
            self.bounded = asyncio.create_task(self._count_up_to())
            return None
        if not self.criteria.words:
            # Filters: counted first (the counters or an index answer, in a few ms), for the
            # count tells how to read the page.
            self.known = await self._count_up_to()
            few = self.known.relation == "EQ" and self.known.value <= _FEW_TO_WALK
            return False if few else None
        async with self.ctx.pool.acquire() as conn:
            self.known = await estimate_matches(
                conn, self.ctx.tenant_id, self.criteria, self.ctx.count_bound
            )
        if self.known is not None:
            return True
        # Up to the bound, or not far above it: a first page reads every match, and counts
        # them as it does; a later one starts after its cursor, and is counted beside.
        if first_page:
            self.from_page = True
        else:
            self.bounded = asyncio.create_task(self._count_up_to())
        return False

    def read_from_page(self, rows: Sequence[Record]) -> None:
        if self.from_page:
            matched = rows[0]["matched"] if rows else 0
            self.known = bounded_count(matched, self.ctx.count_bound)

    def cancel(self) -> None:
        for task in (self.exact, self.bounded):
            if task is not None:
                task.cancel()

    async def total(self) -> int:
        return await (self.exact or self._count_all())

    async def count(self) -> Count:
        counted = self.known or await (self.bounded or self._count_up_to())
        relation = CountRelation(counted.relation)
        return Count(value=counted.value, exact=relation == CountRelation.EQ, relation=relation)

    async def _count_all(self) -> int:
        async with self.ctx.pool.acquire() as conn:
            return await count_users(conn, self.ctx.tenant_id, self.criteria)

    async def _count_up_to(self) -> BoundedCount:
        async with self.ctx.pool.acquire() as conn:
            return await count_users_up_to(
                conn, self.ctx.tenant_id, self.criteria, self.ctx.count_bound
            )

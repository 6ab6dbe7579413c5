"""Users: the `user` and `users` queries and every mutation on users."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import strawberry
from asyncpg import Record
from strawberry import relay
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition

from db import emails, events, platforms, tenants, users
from db.user_counts import (
    BoundedCount,
    bounded_count,
    count_users,
    count_users_up_to,
    estimate_matches,
)
from db.user_search import UserSearch, list_users
from db.users import UniqueConflict
from resolvers.emails import queue_welcome_job, record_welcome_job
from resolvers.errors import BadRequest
from resolvers.id_lists import too_many_selected
from resolvers.ids import decode_id
from resolvers.pagination import (
    PageRequest,
    decode_cursor,
    encode_cursor,
    page_request,
    paginate,
)
from resolvers.permissions import CanMutate, actor_of
from resolvers.search import search_fingerprint, user_search
from resolvers.selection import selected_paths, selects
from resolvers.validation import check_user_fields, resolve_roles
from rules import events as vocabulary
from rules.identifiers import has_refused, nfc
from rules.passwords import check_password_off_loop, hash_password
from rules.userfields import camel, look_alike, skeletons
from schema.context import Context, Info, Loaders
from schema.errors import UserError
from schema.pagination import Count, CountRelation, OrderDirection
from schema.user import (
    CreateUserInput,
    DeleteUsersPayload,
    PlatformRole,
    UpdateUserInput,
    User,
    UserConnection,
    UserFilter,
    UserOrder,
    UserOrderField,
    UserPayload,
    UsersPayload,
    load_roles,
)

PROFILE_FIELDS = users.PROFILE_COLUMNS
# The User attribute under each GraphQL field of plain data: a page reads only the columns of
# those its query asks.
_USER_ATTRIBUTES = {
    NameConverter().get_graphql_name(field): field.python_name
    for field in get_object_definition(User, strict=True).fields
    if field.base_resolver is None
}
_TIME_ORDERS = {UserOrderField.CREATED_AT, UserOrderField.UPDATED_AT}


def _not_found(path: list[str]) -> UserError:
    return UserError(field=path, message="No such user.", code="NOT_FOUND")


def _taken(conflict: UniqueConflict) -> UserError:
    name = camel(conflict.field)
    if conflict.look_alike:
        problem = look_alike(conflict.field)
        return UserError(field=["input", name], message=problem.message, code=problem.code)
    return UserError(
        field=["input", name],
        message=f"Another user already has this {name}.",
        code=f"{conflict.field.upper()}_TAKEN",
    )


def _sort_value(order: UserOrderField, value: Any) -> Any:
    if order in _TIME_ORDERS:
        return datetime.fromisoformat(value)
    if not isinstance(value, str):
        raise ValueError(value)
    return value


@strawberry.type
class UserQuery:
    @strawberry.field(
        description="One user, by exactly one of id, username or e-mail (case-insensitive).",
    )
    async def user(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        username: str | None = None,
        email: str | None = None,
    ) -> User | None:
        given = [a for a in (id, username, email) if a is not None]
        if len(given) != 1:
            raise BadRequest("Pass exactly one of id, username or email.", "INVALID_ARGUMENTS")
        ctx = info.context
        if id is not None:
            user_id = decode_id(id, "User")
            row = None
            if user_id is not None:
                # Not through the users loader: a lone look-up needs no batching, and reads
                # only the columns the query asks.
                async with ctx.pool.acquire() as conn:
                    row = await users.get_user(conn, ctx.tenant_id, user_id, _asked_fields(info))
        elif has_refused(username or email or ""):
            # No user has one of these characters (PostgreSQL could not even compare a NUL).
            row = None
        else:
            async with ctx.pool.acquire() as conn:
                if username is not None:
                    name = nfc(username.strip())
                    row = await users.get_user_by_username(conn, ctx.tenant_id, name)
                else:
                    assert email is not None
                    row = await users.get_user_by_email(conn, ctx.tenant_id, nfc(email.strip()))
        return User.from_row(row) if row else None

    @strawberry.field(
        description="The organisation's users, keyset-paged (at most 100 a page), sorted by "
        "`orderBy` (username by default) with ties broken by id.",
    )
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        search: str | None = None,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
    ) -> UserConnection:
        ctx = info.context
        page = page_request(first, after, last, before)
        order = order_by.field if order_by else UserOrderField.USERNAME
        descending = bool(order_by and order_by.direction == OrderDirection.DESC)
        tenant_platforms = []
        if filter:
            async with ctx.pool.acquire() as conn:
                tenant_platforms = await platforms.list_platforms(conn, ctx.tenant_id)
        criteria = user_search(search, filter, tenant_platforms)
        position = None
        if page.cursor is not None:
            payload = decode_cursor(ctx.cursor_key, page.cursor, "users")
            if (payload.get("o"), payload.get("d"), payload.get("f")) != (
                order.value,
                descending,
                search_fingerprint(criteria),
            ):
                raise BadRequest(
                    "This cursor belongs to another search, filter or order; start again "
                    "without it.",
                    "INVALID_CURSOR",
                )
            try:
                position = (_sort_value(order, payload["v"]), UUID(payload["i"]))
            except (KeyError, ValueError, TypeError, AttributeError) as e:
                # AttributeError: UUID() of a non-string id, e.g. a number.
                raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR") from e

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
            edges=edges,
            page_info=page_info,
            exact_count=counts.total,
            bounded_count=counts.count,
        )


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
        self.fields = _asked_fields(info, "edges", "node")
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


def _asked_fields(info: Info, *path: str) -> set[str]:
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


def _decode_user_ids(ids: Sequence[str]) -> tuple[list[UUID], list[UserError]]:
    # A dict keeps the first of each id in order: a list's `in` made thousands of ids a
    # quadratic wait on the event loop (3,000 stalled it 0.4 s).
    decoded: dict[UUID, None] = {}
    errors: list[UserError] = []
    for i, global_id in enumerate(ids):
        user_id = decode_id(global_id, "User")
        if user_id is None:
            errors.append(_not_found(["ids", str(i)]))
        else:
            decoded.setdefault(user_id)
    return list(decoded), errors


async def _password_problem(
    ctx: Context, password: str, username: str, email: str, path: list[str]
) -> UserError | None:
    async with ctx.pool.acquire() as conn:
        tenant = await tenants.get_tenant(conn, ctx.tenant_id)
    assert tenant is not None
    violation = await check_password_off_loop(
        ctx.executor,
        password,
        min_length=tenant["min_password_length"],
        username=username,
        email=email,
    )
    if violation is None:
        return None
    return UserError(field=path, message=violation.message, code=violation.code)


@strawberry.type
class UserMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        ctx = info.context
        fields, errors = check_user_fields({name: getattr(input, name) for name in PROFILE_FIELDS})
        async with ctx.pool.acquire() as conn:
            tenant_platforms = await platforms.list_platforms(conn, ctx.tenant_id)
        roles, role_errors = resolve_roles(input.roles or [], tenant_platforms)
        errors += role_errors
        if input.password is not None and not errors:
            problem = await _password_problem(
                ctx, input.password, fields["username"], fields["email"], ["input", "password"]
            )
            if problem:
                errors.append(problem)
        if errors:
            return UserPayload(user=None, user_errors=errors)
        password_hash = None
        if input.password is not None:
            password_hash = await hash_password(ctx.executor, input.password)
        welcome_job = None
        try:
            async with ctx.pool.acquire() as conn, conn.transaction():
                row = await users.insert_user(
                    conn, ctx.tenant_id, {**fields, **skeletons(fields)}, password_hash
                )
                await users.add_roles(conn, row["id"], roles)
                made = vocabulary.user_creation(
                    fields,
                    roles,
                    password_set=password_hash is not None,
                    welcome_email=bool(input.send_welcome_email),
                )
                await events.record_events(
                    conn, ctx.tenant_id, actor_of(ctx), [(row["id"], e) for e in made]
                )
                if input.send_welcome_email:
                    welcome_job = await record_welcome_job(ctx, conn, [row["id"]])
        except UniqueConflict as conflict:
            return UserPayload(user=None, user_errors=[_taken(conflict)])
        if welcome_job is not None:
            await queue_welcome_job(ctx, welcome_job)
        return UserPayload(user=User.from_row(row))

    @strawberry.mutation(permission_classes=[CanMutate])
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UpdateUserInput
    ) -> UserPayload:
        ctx = info.context
        user_id = decode_id(id, "User")
        if user_id is None:
            return UserPayload(user=None, user_errors=[_not_found(["id"])])
        given = {
            name: getattr(input, name)
            for name in PROFILE_FIELDS
            if getattr(input, name) is not strawberry.UNSET
        }
        fields, errors = check_user_fields(given)
        roles: list[tuple[UUID, str]] | None = None
        async with ctx.pool.acquire() as conn:
            if input.roles is not strawberry.UNSET:
                tenant_platforms = await platforms.list_platforms(conn, ctx.tenant_id)
                roles, role_errors = resolve_roles(input.roles or [], tenant_platforms)
                errors += role_errors
            if errors:
                return UserPayload(user=None, user_errors=errors)
            try:
                async with conn.transaction():
                    current = await users.lock_users(conn, ctx.tenant_id, [user_id])
                    if not current:
                        return UserPayload(user=None, user_errors=[_not_found(["id"])])
                    changes = {k: v for k, v in fields.items() if current[0][k] != v}
                    row = current[0]
                    if changes:
                        written = {**changes, **skeletons(changes)}
                        updated = await users.update_user(conn, ctx.tenant_id, user_id, written)
                        assert updated is not None
                        row = updated
                    added: list[tuple[UUID, str]] = []
                    removed: list[tuple[UUID, str]] = []
                    if roles is not None:
                        added, removed = await users.replace_roles(conn, user_id, roles)
                        if (added or removed) and not changes:
                            touched = await users.update_user(conn, ctx.tenant_id, user_id, {})
                            assert touched is not None
                            row = touched
                    made = vocabulary.user_changes(list(changes), added=added, removed=removed)
                    await events.record_events(
                        conn, ctx.tenant_id, actor_of(ctx), [(user_id, e) for e in made]
                    )
            except UniqueConflict as conflict:
                return UserPayload(user=None, user_errors=[_taken(conflict)])
        return UserPayload(user=User.from_row(row))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Enables the selected users; already active ones are left as they are. "
        "If any id is unknown, nothing changes.",
    )
    async def enable_users(self, info: Info, ids: list[strawberry.ID]) -> UsersPayload:
        return await _set_status(info.context, ids, enable=True)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Disables the selected users; already disabled ones are left as they are. "
        "If any id is unknown, nothing changes.",
    )
    async def disable_users(self, info: Info, ids: list[strawberry.ID]) -> UsersPayload:
        return await _set_status(info.context, ids, enable=False)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Deletes disabled users for good, with their roles and personal data. "
        "If any selected user is active or unknown, nothing is deleted.",
    )
    async def delete_users(self, info: Info, ids: list[strawberry.ID]) -> DeleteUsersPayload:
        ctx = info.context
        refused = too_many_selected(ids, ["ids"])
        if refused is not None:
            return DeleteUsersPayload(deleted_ids=[], user_errors=[refused])
        user_ids, errors = _decode_user_ids(ids)
        async with ctx.pool.acquire() as conn, conn.transaction():
            found = {r["id"]: r for r in await users.lock_users(conn, ctx.tenant_id, user_ids)}
            for i, global_id in enumerate(ids):
                user_id = decode_id(global_id, "User")
                if user_id is None:
                    continue
                row = found.get(user_id)
                if row is None:
                    errors.append(_not_found(["ids", str(i)]))
                elif row["status"] == "ACTIVE":
                    errors.append(
                        UserError(
                            field=["ids", str(i)],
                            message=f"{row['username']} is active: disable the user first.",
                            code="USER_ACTIVE",
                        )
                    )
            if errors:
                return DeleteUsersPayload(deleted_ids=[], user_errors=errors)
            deleted = await users.delete_disabled_users(conn, ctx.tenant_id, user_ids)
            await events.record_events(
                conn,
                ctx.tenant_id,
                actor_of(ctx),
                [(uid, vocabulary.user_deleted(deleted[uid])) for uid in user_ids],
            )
        return DeleteUsersPayload(
            deleted_ids=[strawberry.ID(g) for g in dict.fromkeys(ids)], user_errors=[]
        )

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Sets a user's password, checked against the password policy; stored as "
        "an argon2id hash.",
    )
    async def set_password(self, info: Info, id: strawberry.ID, password: str) -> UserPayload:
        ctx = info.context
        user_id = decode_id(id, "User")
        current = await ctx.loaders.users.load(user_id) if user_id else None
        if user_id is None or current is None:
            return UserPayload(user=None, user_errors=[_not_found(["id"])])
        problem = await _password_problem(
            ctx, password, current["username"], current["email"], ["password"]
        )
        if problem:
            return UserPayload(user=None, user_errors=[problem])
        password_hash = await hash_password(ctx.executor, password)
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await users.set_password_hash(conn, ctx.tenant_id, user_id, password_hash)
            if row is None:  # deleted while the hash was computed
                return UserPayload(user=None, user_errors=[_not_found(["id"])])
            # A welcome e-mail's link would overwrite the password just set.
            await emails.use_user_token(conn, ctx.tenant_id, user_id)
            await events.record_events(
                conn, ctx.tenant_id, actor_of(ctx), [(user_id, vocabulary.user_password_set())]
            )
        return UserPayload(user=User.from_row(row))


async def _set_status(ctx: Context, ids: Sequence[str], *, enable: bool) -> UsersPayload:
    refused = too_many_selected(ids, ["ids"])
    if refused is not None:
        return UsersPayload(users=[], user_errors=[refused])
    user_ids, errors = _decode_user_ids(ids)
    async with ctx.pool.acquire() as conn, conn.transaction():
        found = {r["id"] for r in await users.lock_users(conn, ctx.tenant_id, user_ids)}
        errors += [
            _not_found(["ids", str(i)])
            for i, g in enumerate(ids)
            if (uid := decode_id(g, "User")) is not None and uid not in found
        ]
        if errors:
            return UsersPayload(users=[], user_errors=errors)
        if enable:
            changed = await users.enable_users(conn, ctx.tenant_id, user_ids)
        else:
            changed = await users.disable_users(conn, ctx.tenant_id, user_ids)
        event = vocabulary.user_enabled() if enable else vocabulary.user_disabled()
        await events.record_events(
            conn, ctx.tenant_id, actor_of(ctx), [(u, event) for u in changed]
        )
        rows = {r["id"]: r for r in await users.get_users(conn, ctx.tenant_id, user_ids)}
    return UsersPayload(users=[User.from_row(rows[uid]) for uid in user_ids])

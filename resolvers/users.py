"""Users: the `user` and `users` queries and every mutation on users."""

from collections.abc import Sequence
from uuid import UUID

import strawberry

from db import emails, events, platforms, tenants, users
from db.users import UniqueConflict
from resolvers.emails import queue_welcome_job, record_welcome_job
from resolvers.errors import BadRequest
from resolvers.id_lists import too_many_selected
from resolvers.ids import decode_id
from resolvers.permissions import CanMutate, actor_of
from resolvers.user_pages import PageArguments, asked_fields, users_page
from resolvers.validation import check_user_fields, resolve_roles
from rules import events as vocabulary
from rules.identifiers import has_refused, nfc
from rules.passwords import check_password_off_loop, hash_password
from rules.userfields import camel, look_alike, skeletons
from schema.context import Context, Info
from schema.errors import UserError
from schema.user import (
    CreateUserInput,
    DeleteUsersPayload,
    PasswordVerdict,
    UpdateUserInput,
    User,
    UserConnection,
    UserFilter,
    UserOrder,
    UserPayload,
    UsersPayload,
)

PROFILE_FIELDS = users.PROFILE_COLUMNS


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
                    row = await users.get_user(conn, ctx.tenant_id, user_id, asked_fields(info))
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
        description="Checks a password against the organisation's password policy, as "
        "createUser and setPassword will (give the user's username and e-mail: a password may "
        "not contain them), without storing anything: for a form to say as one types.",
    )
    async def password_verdict(
        self, info: Info, password: str, username: str | None = None, email: str | None = None
    ) -> PasswordVerdict:
        problem = await _password_problem(
            info.context, password, username or "", email or "", ["password"]
        )
        if problem is None:
            return PasswordVerdict(acceptable=True)
        return PasswordVerdict(acceptable=False, code=problem.code, message=problem.message)

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
        arguments = PageArguments(first, after, last, before, search, filter, order_by)
        return await users_page(info, arguments)


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
                await users.add_roles(conn, ctx.tenant_id, row["id"], roles)
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
                        added, removed = await users.replace_roles(
                            conn, ctx.tenant_id, user_id, roles
                        )
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
            deleted = await users.delete_users(conn, ctx.tenant_id, user_ids, only_disabled=True)
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

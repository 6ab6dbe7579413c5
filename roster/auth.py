"""Bearer tokens: made once, stored as a SHA-256 hash, looked up on every request."""

import hashlib
import secrets

from asyncpg import Pool

from db import tokens
from roster.tokencache import TokenCache
from schema.context import Principal

TOKEN_PREFIX = "rst_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    pool: Pool, authorization: str | None, cache: TokenCache | None = None
) -> Principal | None:
    """The caller that an `Authorization: Bearer …` value identifies, or None. With the API
    process's `cache`, a token it holds needs no query."""
    token = bearer_token(authorization)
    if token is None:
        return None
    digest = token_hash(token)
    if cache is not None:
        principal = cache.get(digest)
        if principal is not None:
            return principal
    ticket = cache.ticket() if cache is not None else None
    async with pool.acquire() as conn:
        row = await tokens.find_active_token(conn, digest)
    if row is None:
        return None
    principal = Principal(
        tenant_id=row["tenant_id"], token_id=row["id"], token_name=row["name"], scope=row["scope"]
    )
    if cache is not None:
        cache.put(digest, principal, ticket)
    return principal

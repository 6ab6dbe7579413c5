"""Secrets made once per database (0006_identifiers.sql) that every instance shares."""

from db.pool import Conn

GET_SECRET = "SELECT secret FROM app_secrets WHERE name = $1"


async def get_secret(conn: Conn, name: str) -> bytes | None:
    secret: bytes | None = await conn.fetchval(GET_SECRET, name)
    return secret

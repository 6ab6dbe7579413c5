"""rules/tenants.py: the rules `roster tenant` checks before writing agree with the database's
CHECK constraints, so that nothing the rules accept is refused half-way through a write."""

import asyncpg

from db.pool import connect
from rules.tenants import min_password_length_problem, slug_problem

SLUGS = [
    "acme",
    "a",
    "0day",
    "acme-2",
    "a" * 63,
    "a" * 64,
    "Acme",
    "acme_corp",
    "-acme",
    "",
    "ac me",
]
LENGTHS = [7, 8, 15, 64, 65]


async def accepted(db_url: str, sql: str, *args: object) -> bool:
    conn = await connect(db_url)
    try:
        async with conn.transaction():
            await conn.execute(sql, *args)
        return True
    except asyncpg.CheckViolationError:
        return False
    finally:
        await conn.close()


async def test_the_slug_rule_is_the_database_check(db_url: str) -> None:
    for slug in SLUGS:
        in_database = await accepted(
            db_url, "INSERT INTO tenants (slug, name) VALUES ($1, 'x')", slug
        )
        assert (slug_problem(slug) is None) is in_database, slug


async def test_the_minimum_length_rule_is_the_database_check(db_url: str) -> None:
    for length in LENGTHS:
        in_database = await accepted(
            db_url,
            "INSERT INTO tenants (slug, name, min_password_length) VALUES ($1, 't', $2)",
            f"t{length}",
            length,
        )
        assert (min_password_length_problem(length) is None) is in_database, length
        assert (length in (8, 15, 64)) is in_database, length

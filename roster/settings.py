"""Configuration: environment variables only, each with a default that works on a developer's
machine."""

import os
from dataclasses import dataclass, field


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get(
            "DATABASE_URL", "postgresql://postgres@localhost:5432/roster"
        )
    )
    redis_url: str = field(
        default_factory=lambda: os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    )
    public_url: str = field(
        default_factory=lambda: os.environ.get("PUBLIC_URL", "http://localhost:8000")
    )
    # Unmasked errors with their messages; never in production.
    debug: bool = field(default_factory=lambda: _flag("ROSTER_DEBUG"))
    # Introspection and "Did you mean" suggestions for every token; else for admin tokens only
    # (and for every token with debug).
    introspection: bool = field(default_factory=lambda: _flag("ROSTER_INTROSPECTION"))
    db_pool_size: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_DB_POOL_SIZE", "10"))
    )
    # Processes that hash passwords; 0 means one per core.
    hash_workers: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_HASH_WORKERS", "0"))
    )
    max_upload_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_UPLOAD_BYTES", str(1 << 30)))
    )
    # Any other request body (a GraphQL document and its variables).
    max_body_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_BODY_BYTES", str(1 << 20)))
    )
    max_query_depth: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_QUERY_DEPTH", "10"))
    )
    max_aliases: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_ALIASES", "30"))
    )
    # Fields, each counted once per item of the lists above it, and rows read: see
    # roster/query_cost.py.
    max_query_cost: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_QUERY_COST", "20000"))
    )
    # A connection's `count` is exact up to this many and flagged as a lower bound above it.
    count_bound: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_COUNT_BOUND", "10000"))
    )
    max_tokens: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_TOKENS", "2000"))
    )

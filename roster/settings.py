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
    max_query_depth: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_QUERY_DEPTH", "10"))
    )
    max_aliases: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_ALIASES", "30"))
    )
    max_tokens: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_TOKENS", "2000"))
    )
    # How long an export's file is kept, in seconds (7 days); the worker deletes it after.
    export_ttl: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_EXPORT_TTL", str(7 * 24 * 3600)))
    )
    # How long a signed download link (ExportJob.downloadUrl) works, in seconds.
    export_link_ttl: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_EXPORT_LINK_TTL", "3600"))
    )

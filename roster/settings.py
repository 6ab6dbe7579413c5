"""Configuration: environment variables only, each with a default that works on a developer's
machine."""

import os
from dataclasses import dataclass, field

from jobs.mail import MailConfig
from rules.proxies import split_entries


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _unless_off(name: str) -> bool:
    """A setting that is on unless turned off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


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
    # Where welcome e-mails go: smtp://host:port, smtp+starttls://user:password@host:587 or
    # smtps://user:password@host:465. scripts/start runs a local sink on localhost:1025.
    smtp_url: str = field(
        default_factory=lambda: os.environ.get("SMTP_URL") or "smtp://localhost:1025"
    )
    mail_from: str = field(
        default_factory=lambda: os.environ.get("ROSTER_MAIL_FROM", "Roster <roster@localhost>")
    )
    # Messages per second each e-mail job sends at most.
    mail_rate: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_MAIL_RATE", "10"))
    )
    # Hours a set-password link works.
    set_password_ttl_hours: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_SET_PASSWORD_TTL", "72"))
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
    # The most characters one CSV record may hold; a longer one is a row error, read no further.
    max_record_size: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_MAX_RECORD_SIZE", str(1 << 20)))
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
    # The execution engine (roster/execution/: plain data completed by plans, arguments handed
    # over lightly, prepared documents); off: none of its execution modules is even imported and
    # Roster runs on stock Strawberry, the same answers at several times the CPU.
    plain_execution: bool = field(default_factory=lambda: _unless_off("ROSTER_PLAIN_EXECUTION"))
    # With the engine on, documents validated once run without Strawberry's extension hooks
    # afterwards (roster/execution/prepared.py); off: every request through them, the same
    # answers.
    prepared_documents: bool = field(
        default_factory=lambda: _unless_off("ROSTER_PREPARED_DOCUMENTS")
    )
    # A connection's `count` is exact up to this many and flagged as a lower bound above it.
    count_bound: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_COUNT_BOUND", "10000"))
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
    # Reverse proxies (addresses or networks) whose X-Forwarded-For is believed: the client
    # address the set-password page's limits count by (rules/proxies.py). Empty: no one's.
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: split_entries(os.environ.get("ROSTER_TRUSTED_PROXIES", ""))
    )
    # Seals page cursors; unset, every instance reads the secret made for the database by its
    # migrations (table app_secrets). Setting or changing it invalidates the cursors issued
    # before (a client starts again from the first page).
    cursor_secret: str | None = field(
        default_factory=lambda: os.environ.get("ROSTER_CURSOR_SECRET") or None
    )
    # Webhook delivery: the timeout of one POST, and retries doubling from a base delay up to
    # a cap, given up after a window (seconds).
    webhook_timeout: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_WEBHOOK_TIMEOUT", "15"))
    )
    webhook_retry_base: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_WEBHOOK_RETRY_BASE", "10"))
    )
    webhook_retry_cap: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_WEBHOOK_RETRY_CAP", "3600"))
    )
    webhook_retry_window: float = field(
        default_factory=lambda: float(os.environ.get("ROSTER_WEBHOOK_RETRY_WINDOW", "86400"))
    )

    def mail(self) -> MailConfig:
        return MailConfig(
            smtp_url=self.smtp_url,
            mail_from=self.mail_from,
            public_url=self.public_url,
            rate=self.mail_rate,
            link_ttl_seconds=self.set_password_ttl_hours * 3600,
        )

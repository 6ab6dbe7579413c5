"""Configuration: environment variables only, each with a default that works on a developer's
machine."""

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jobs.addresses import AddressPolicy, Resolve, system_resolve
from jobs.mail import MailConfig
from rules.addresses import Network, parse_networks

if TYPE_CHECKING:
    # The delivery loop is the worker's: the API never loads it.
    from jobs.webhooks import WebhookConfig

DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _networks(name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(os.environ.get(name, ""))
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def _duration(name: str, default: str) -> float:
    """Seconds, written as a number of seconds or with a unit: `90`, `45m`, `12h`, `30d`."""
    value = os.environ.get(name, default).strip().lower()
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", value)
    if found is None:
        raise ValueError(f"{name}: {value!r} is not a duration (e.g. 3600, 45m, 12h, 30d)")
    return float(found[1]) * DURATION_UNITS[found[2]]


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
    trusted_proxies: tuple[Network, ...] = field(
        default_factory=lambda: _networks("ROSTER_TRUSTED_PROXIES")
    )
    # Seals page cursors; unset, every instance reads the secret made for the database by its
    # migrations (table app_secrets). Setting or changing it invalidates the cursors issued
    # before (a client starts again from the first page).
    cursor_secret: str | None = field(
        default_factory=lambda: os.environ.get("ROSTER_CURSOR_SECRET") or None
    )
    # Webhook delivery: one attempt's deadline (look-up, connection, sending and reading the
    # answer together), and retries doubling from a base delay up to a cap, given up after a
    # window (seconds).
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
    # Networks webhooks may go to besides public addresses (comma-separated CIDRs, e.g.
    # 127.0.0.0/8,::1/128 for receivers on a developer's machine). Empty: public ones only.
    webhook_allowed_networks: tuple[Network, ...] = field(
        default_factory=lambda: _networks("ROSTER_WEBHOOK_ALLOWED_NETWORKS")
    )
    # Requests a worker has in flight at once to one tenant's webhooks, and to one webhook.
    webhook_tenant_concurrency: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_WEBHOOK_TENANT_CONCURRENCY", "100"))
    )
    webhook_endpoint_concurrency: int = field(
        default_factory=lambda: int(os.environ.get("ROSTER_WEBHOOK_ENDPOINT_CONCURRENCY", "50"))
    )
    # How long finished webhook deliveries are kept (seconds, or 45m, 12h, 30d).
    webhook_retention: float = field(
        default_factory=lambda: _duration("ROSTER_WEBHOOK_RETENTION", "30d")
    )
    # How webhook hosts are resolved; None: the system's resolver. Not an environment variable:
    # tests give one that maps names to addresses without asking DNS.
    webhook_resolver: Resolve | None = None

    def webhook_addresses(self) -> AddressPolicy:
        """Where webhooks may go, for the API's checks and the worker's."""
        return AddressPolicy(self.webhook_allowed_networks, self.webhook_resolver or system_resolve)

    def webhooks(self) -> "WebhookConfig":
        """The worker's webhook delivery."""
        from jobs.webhooks import WebhookConfig

        return WebhookConfig(
            timeout=self.webhook_timeout,
            retry_base=self.webhook_retry_base,
            retry_cap=self.webhook_retry_cap,
            retry_window=self.webhook_retry_window,
            tenant_concurrency=self.webhook_tenant_concurrency,
            endpoint_concurrency=self.webhook_endpoint_concurrency,
            addresses=self.webhook_addresses(),
            retention=self.webhook_retention,
        )

    def mail(self) -> MailConfig:
        return MailConfig(
            smtp_url=self.smtp_url,
            mail_from=self.mail_from,
            public_url=self.public_url,
            rate=self.mail_rate,
            link_ttl_seconds=self.set_password_ttl_hours * 3600,
        )

"""A real SMTP server in the test process (aiosmtpd), and a worker that sends to it."""

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from arq.connections import RedisSettings
from arq.worker import create_worker

from jobs.mail import MailConfig
from jobs.worker import WorkerSettings
from tests.conftest import REDIS_URL

PUBLIC_URL = "http://roster.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Received:
    at: float
    to: str
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content

    @property
    def token(self) -> str:
        found = re.search(r"/set-password\?token=([A-Za-z0-9_\-]+)", self.part("plain"))
        assert found, self.part("plain")
        return found.group(1)


@dataclass
class Mailbox:
    """aiosmtpd's handler: keeps every message it accepts; refuses `refused` addresses (550)."""

    received: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            for to in envelope.rcpt_tos:
                self.received.append(Received(time.monotonic(), to, message))
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.to == address]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class SmtpServer:
    """A Controller on a port chosen beforehand, so a test can start it after a failure."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def mail_config(smtp_url: str, *, rate: float = 1000, ttl_hours: int = 72) -> MailConfig:
    return MailConfig(
        smtp_url=smtp_url,
        mail_from="Roster <roster@example.com>",
        public_url=PUBLIC_URL,
        rate=rate,
        link_ttl_seconds=ttl_hours * 3600,
    )


async def run_worker(db_url: str, mail: MailConfig) -> None:
    """Runs the queued jobs (and what they queue) to the end in this event loop."""
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(REDIS_URL),
        ctx={"database_url": db_url, "hash_workers": 1, "mail": mail},
        burst=True,
        poll_delay=0,
        cron_jobs=[],
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()

"""Sending mail over SMTP (aiosmtplib): the server's settings from SMTP_URL, one connection
kept open across a job's messages, and the pacing between them."""

import asyncio
import time
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from rules.welcome import Welcome

# smtp://host:port             plain (a local catcher, a relay on a private network)
# smtp+starttls://u:p@host:587 upgraded with STARTTLS, then authenticated
# smtps://u:p@host:465         TLS from the first byte
SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 30


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MailConfig:
    """What the e-mail job needs of Roster's settings (roster/settings.py builds it)."""

    smtp_url: str
    mail_from: str
    public_url: str
    # Messages per second, per job.
    rate: float
    link_ttl_seconds: int


@dataclass(frozen=True, slots=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise SmtpUrlError(
                "SMTP_URL is smtp://host:port, smtp+starttls://user:password@host:587 or "
                "smtps://user:password@host:465"
            )
        use_tls, start_tls = SCHEMES[parts.scheme]
        return cls(
            hostname=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )


class Refused(Exception):
    """The server refused this message for good (5xx): sending it again will not help."""


class Unavailable(Exception):
    """The server is unreachable or refused for now: a later try may succeed."""


def build_message(mail_from: str, to: str, welcome: Welcome) -> EmailMessage:
    """multipart/alternative: the plain text first, the HTML the reader prefers after it."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = str(Address(addr_spec=to))
    message["Subject"] = welcome.subject
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(welcome.text)
    message.add_alternative(welcome.html, subtype="html")
    return message


class Mailer:
    """One SMTP connection for a job's messages, opened when first needed and again after the
    server drops it."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.smtp: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> None:
        """Returns once the server accepted the message; raises Refused or Unavailable."""
        try:
            smtp = await self._connected()
            await smtp.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as e:
            if all(r.code >= 500 for r in e.recipients):
                raise Refused(f"{e.recipients[0].code} {e.recipients[0].message}") from e
            raise Unavailable(str(e)) from e
        except aiosmtplib.SMTPDataError as e:
            if e.code >= 500:
                raise Refused(f"{e.code} {e.message}") from e
            raise Unavailable(f"{e.code} {e.message}") from e
        except (aiosmtplib.SMTPException, OSError) as e:
            await self.close()
            raise Unavailable(f"{type(e).__name__}: {e}") from e

    async def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self.smtp is not None and self.smtp.is_connected:
            return self.smtp
        s = self.server
        smtp = aiosmtplib.SMTP(
            hostname=s.hostname,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.use_tls,
            start_tls=s.start_tls,
            timeout=TIMEOUT_SECONDS,
        )
        await smtp.connect()
        self.smtp = smtp
        return smtp


class Pacer:
    """At most `rate` messages a second: each waits for its slot."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        if self.next > now:
            await asyncio.sleep(self.next - now)
        self.next = max(self.next, now) + self.interval

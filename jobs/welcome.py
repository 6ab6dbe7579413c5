"""The welcome e-mail job: writes to each recipient once at most, paced, with a fresh
set-password link, resuming after a crash where it stopped; and the pass that turns welcome
e-mail requests (from createUser, imports, older releases) into such jobs.

At most once: a recipient is marked SENDING (with their new link) in a commit before the
message goes to the SMTP server, and SENT in a commit after the server accepted it. A worker
killed between the two leaves SENDING behind; the next run cannot know whether the server took
the message, and reports that recipient as DELIVERY_UNKNOWN rather than risk a second e-mail."""

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from asyncpg import Pool, Record

from db import emails, events, jobs, tenants, users
from db.events import Actor
from db.pool import Conn
from db.tenancy import switch_tenant
from jobs.lifecycle import Cancelled, JobKind, Run, TryAgain, run_job
from jobs.mail import MailConfig, Mailer, Pacer, Refused, SmtpServer, SmtpUrlError, Unavailable
from jobs.mail import build_message as build_mail
from rules import events as vocabulary
from rules import welcome as texts
from rules.ids import encode_id

log = logging.getLogger(__name__)

# Recipients read at a time; each is then sent and recorded on its own.
BATCH = 200
# How often a running job looks whether it was cancelled.
CANCEL_CHECK_SECONDS = 1.0
# Requests turned into jobs per transaction: a first pass over years of requests holds this many
# in memory at a time.
REQUESTS_PER_PASS = 50_000


async def take_requests(pool: Pool) -> list[tuple[UUID, UUID]]:
    """E-mail jobs for the welcome e-mail requests no job has taken up yet: one per tenant,
    actor and import (whose users get one job at its end), for each REQUESTS_PER_PASS
    requests. Returns the jobs (tenant id, job id), to queue. Every organisation's requests,
    in one transaction that makes each organisation's jobs as that organisation."""
    made: list[tuple[UUID, UUID]] = []
    while True:
        async with pool.acquire() as conn, conn.transaction():
            requests = await emails.take_requests(conn, REQUESTS_PER_PASS)
            made += await _jobs_for(conn, requests)
        if len(requests) < REQUESTS_PER_PASS:
            return made


async def _jobs_for(conn: Conn, requests: Sequence[Record]) -> list[tuple[UUID, UUID]]:
    groups: dict[tuple[UUID, UUID | None, str, str | None], list[UUID]] = defaultdict(list)
    for r in requests:
        key = (r["tenant_id"], r["actor_token_id"], r["actor"], r["source"])
        groups[key].append(r["user_id"])
    made = []
    for (tenant_id, token_id, actor, source), user_ids in groups.items():
        options = {"requested_by": source} if source else {}
        # A user asked for twice (by older releases) gets one e-mail.
        unique = list(dict.fromkeys(user_ids))
        await switch_tenant(conn, tenant_id)
        job = await emails.record_email_job(
            conn, tenant_id, Actor(token_id, actor), unique, options
        )
        made.append((tenant_id, job["id"]))
    return made


class EmailKind(JobKind):
    label = "e-mail job"

    async def work(self, run: Run) -> Record | None:
        config: MailConfig | None = run.ctx.get("mail")
        try:
            if config is None:
                raise SmtpUrlError("This worker was started without mail settings.")
            sender = Sender(run, config)
        except SmtpUrlError as e:
            return await run.end("FAILED", str(e))
        try:
            status, error = await _send(sender, run)
        finally:
            await sender.mailer.close()
        return await run.end(status, error)


EMAIL = EmailKind()


async def send_welcome_emails(ctx: dict[str, Any], job_id: str, *, last_try: bool) -> None:
    """Runs an e-mail job (jobs/lifecycle.py); a later try resumes with the recipients not done
    yet."""
    await run_job(ctx, job_id, EMAIL, last_try=last_try)


async def _send(sender: "Sender", run: Run) -> tuple[str, str | None]:
    """Sends to every recipient not done yet; the job's end (status, error), reconciled."""
    try:
        await sender.send_pending()
    except Unavailable as e:
        if not run.last_try:
            log.warning("%s: SMTP server unavailable (%s); trying again", run, e)
            raise TryAgain from e
        await sender.give_up(str(e))
    return await sender.reconcile()


def _counts(*, failed: int = 0, skipped: int = 0, sent: int = 0) -> dict[str, int]:
    """A job's counters: processed counts every recipient done; sent is the rest of it."""
    done = failed + skipped + sent
    return dict(dict.fromkeys(jobs.COUNTERS, 0), processed=done, failed=failed, skipped=skipped)


class Sender:
    """One run of one e-mail job over its recipients not done yet."""

    def __init__(self, run: Run, config: MailConfig) -> None:
        self.run = run
        self.pool = run.pool
        self.lock = run.lock
        self.config = config
        job = run.job
        self.job_id: UUID = job["id"]
        self.tenant_id: UUID = job["tenant_id"]
        self.mailer = Mailer(SmtpServer.from_url(config.smtp_url))
        self.pacer = Pacer(config.rate)
        self.global_id = encode_id(vocabulary.EMAIL_JOB, self.job_id)
        self.actor = Actor(job["actor_token_id"], job["actor"])
        self.organisation = ""

    async def send_pending(self) -> None:
        async with self.pool.acquire() as conn:
            tenant = await tenants.get_tenant(conn, self.tenant_id)
            assert tenant is not None
            self.organisation = tenant["name"]
            async with conn.transaction():
                unknown = await emails.take_unknown(conn, self.tenant_id, self.job_id)
                await self._failed(conn, unknown, "DELIVERY_UNKNOWN", _UNKNOWN)
            after, checked = 0, 0.0
            while True:
                batch = await emails.next_pending(
                    conn, self.tenant_id, self.job_id, after=after, limit=BATCH
                )
                if not batch:
                    return
                for r in batch:
                    if time.monotonic() - checked >= CANCEL_CHECK_SECONDS:
                        if await jobs.cancel_requested(conn, self.job_id):
                            raise Cancelled
                        checked = time.monotonic()
                    self.lock.check()  # a run that lost its job sends nothing more
                    await self._one(conn, r["position"], r["user_id"])
                after = batch[-1]["position"]

    async def _one(self, conn: Conn, position: int, user_id: UUID) -> None:
        found = await users.get_users(conn, self.tenant_id, [user_id])
        if not found or found[0]["status"] != "ACTIVE":
            # Deleted or disabled since it was asked for: nobody to write to.
            async with conn.transaction():
                await self._set_state(conn, position, "SKIPPED")
                await self._progress(conn, _counts(skipped=1))
            return
        user = found[0]
        token = texts.new_token()
        token_hash = texts.token_hash(token)
        message = build_mail(self.config.mail_from, user["email"], self._welcome(user, token))
        async with conn.transaction():
            await emails.issue_token(
                conn, self.tenant_id, user_id, token_hash, self.config.link_ttl_seconds
            )
            await self._set_state(conn, position, "SENDING")
        await self.pacer.wait()
        try:
            await self.mailer.send(message)
        except Refused as e:
            async with conn.transaction():
                await emails.withdraw_token(conn, self.tenant_id, token_hash)
                await self._set_state(conn, position, "FAILED", str(e))
                rows = [{"position": position, "user_id": user_id}]
                await self._failed(conn, rows, "SMTP_REFUSED", f"The SMTP server refused it: {e}")
            return
        except Unavailable as e:
            async with conn.transaction():
                await emails.withdraw_token(conn, self.tenant_id, token_hash)
                await self._set_state(conn, position, "PENDING", str(e))
            raise
        async with conn.transaction():
            await self._set_state(conn, position, "SENT")
            await emails.mark_sent_user(conn, self.tenant_id, user_id)
            await events.record_events(
                conn,
                self.tenant_id,
                self.actor,
                [(user_id, vocabulary.user_welcome_email_sent(self.global_id))],
            )
            await self._progress(conn, _counts(sent=1))

    async def _set_state(
        self, conn: Conn, position: int, state: str, error: str | None = None
    ) -> None:
        await emails.set_state(conn, self.tenant_id, self.job_id, position, state, error)

    def _welcome(self, user: Record, token: str) -> texts.Welcome:
        return texts.welcome(
            language=texts.language_of(user["language"]),
            first_name=user["first_name"],
            username=user["username"],
            organisation=self.organisation,
            link=texts.set_password_link(self.config.public_url, token),
            hours=self.config.link_ttl_seconds // 3600,
        )

    async def give_up(self, error: str) -> None:
        """The last try met an unavailable server: the recipients left did not get it."""
        async with self.pool.acquire() as conn, conn.transaction():
            left = await emails.fail_pending(conn, self.tenant_id, self.job_id, error)
            message = f"The SMTP server was unavailable after every try: {error}"
            await self._failed(conn, left, "SMTP_UNAVAILABLE", message)

    async def _failed(self, conn: Conn, rows: Sequence[Any], code: str, message: str) -> None:
        """Records recipients who did not get the e-mail: a row error naming the user, an
        event, the job's counters."""
        if not rows:
            return
        await jobs.add_user_row_errors(
            conn,
            self.tenant_id,
            self.job_id,
            [(r["position"], r["user_id"], code, message) for r in rows],
        )
        event = vocabulary.user_welcome_email_failed(code, self.global_id)
        await events.record_events(
            conn, self.tenant_id, self.actor, [(r["user_id"], event) for r in rows]
        )
        await self._progress(conn, _counts(failed=len(rows)))

    async def _progress(self, conn: Conn, counts: dict[str, int]) -> None:
        await self.run.progress(conn, counts)

    async def reconcile(self) -> tuple[str, str | None]:
        """The job's end: every recipient is sent, failed or skipped, exactly as counted, or it
        fails saying so. None sent but some failed is a failure; some failed is said."""
        async with self.pool.acquire() as conn:
            states = await emails.count_states(conn, self.tenant_id, self.job_id)
            job = await jobs.get_job(conn, self.job_id)
        assert job is not None
        sent, failed, skipped = (states.get(s, 0) for s in ("SENT", "FAILED", "SKIPPED"))
        total = sum(states.values())
        if (
            job["total"] != total
            or job["processed"] != sent + failed + skipped
            or (job["failed"], job["skipped"]) != (failed, skipped)
            or sent + failed + skipped != total
        ):
            return "FAILED", (
                f"Reconciliation failed: {total} recipients, {sent} sent, {failed} failed, "
                f"{skipped} skipped, but the job counted {job['processed']} done."
            )
        if failed and not sent:
            return "FAILED", f"No e-mail was sent: all {failed} failed (see rowErrors)."
        if failed:
            return "SUCCEEDED", (
                f"{failed} of {total} users did not get the e-mail (see rowErrors); {sent} did."
            )
        return "SUCCEEDED", None


_UNKNOWN = (
    "A worker stopped while handing this e-mail to the SMTP server: it may or may not have "
    "arrived, and it is not sent twice. Send it again if the user has none."
)

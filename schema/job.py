from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

import strawberry
from asyncpg import Record
from strawberry import relay

from schema.context import Info
from schema.errors import UserError
from schema.node import node_uuids
from schema.user import User


@strawberry.enum
class JobStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATUSES = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


@strawberry.enum
class ImportMode(Enum):
    CREATE = "CREATE"
    UPSERT = "UPSERT"
    UPDATE = "UPDATE"


@strawberry.enum
class MatchBy(Enum):
    EMAIL = "EMAIL"
    USERNAME = "USERNAME"
    EXTERNAL_ID = "EXTERNAL_ID"


@strawberry.enum
class RolesMode(Enum):
    MERGE = "MERGE"
    REPLACE = "REPLACE"


@strawberry.enum
class ExtraColumns(Enum):
    REJECT = "REJECT"
    ATTRIBUTES = "ATTRIBUTES"


@strawberry.input
class ImportOptions:
    mode: ImportMode = strawberry.field(
        default=ImportMode.UPSERT,
        description="CREATE: existing users are row errors; UPDATE: unknown users are; UPSERT.",
    )
    match_by: MatchBy = MatchBy.EMAIL
    roles_mode: RolesMode = strawberry.field(
        default=RolesMode.MERGE, description="Whether a row's roles add to or replace the user's."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Validate and plan every row; change nothing."
    )
    send_welcome_email: bool = strawberry.field(
        default=False, description="Welcome e-mail to the users the import creates."
    )
    delimiter: str | None = strawberry.field(default=None, description="Detected when left out.")
    encoding: str | None = strawberry.field(default=None, description="Detected when left out.")
    extra_columns: ExtraColumns = strawberry.field(
        default=ExtraColumns.REJECT,
        description="ATTRIBUTES: unknown columns go to attributes instead of failing the file.",
    )


@strawberry.type
class RowError:
    row: int = strawberry.field(
        description="The row number a spreadsheet shows (header = 1); for an e-mail job, the "
        "user's place in the selection (from 1)."
    )
    column: str | None
    code: str
    message: str
    user_id: strawberry.Private[Any] = None

    @strawberry.field(description="For an e-mail job: the user who did not get the e-mail.")
    async def user(self, info: Info) -> User | None:
        if self.user_id is None:
            return None
        row = await info.context.loaders.users.load(self.user_id)
        return User.from_row(row) if row else None


@strawberry.type
class RowErrorCount:
    code: str
    rows: int = strawberry.field(description="Problems with this code (a row may have several).")


@strawberry.type
class RowErrorEdge:
    cursor: str
    node: RowError


@strawberry.type
class RowErrorConnection:
    edges: list[RowErrorEdge]
    page_info: relay.PageInfo


@strawberry.enum
class PlanAction(Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    NOOP = "NOOP"


@strawberry.type(description="What a dry run found one row would do.")
class PlannedRow:
    row: int
    action: PlanAction
    user_id: strawberry.Private[Any]
    fields: list[str] = strawberry.field(description="Fields it would set or change.")
    roles_added: list[str] = strawberry.field(description='"platform:role" it would grant.')
    roles_removed: list[str]

    @strawberry.field(
        description="True for a deletion: a revert (revertImport) cannot undo it, since a "
        "deleted user cannot come back."
    )
    def irreversible(self) -> bool:
        return self.action == PlanAction.DELETE

    @strawberry.field(description="The user it would update or delete.")
    async def user(self, info: Info) -> User | None:
        if self.user_id is None:
            return None
        row = await info.context.loaders.users.load(self.user_id)
        return User.from_row(row) if row else None


@strawberry.type
class PlannedRowEdge:
    cursor: str
    node: PlannedRow


@strawberry.type
class PlannedRowConnection:
    edges: list[PlannedRowEdge]
    page_info: relay.PageInfo


@strawberry.interface
class Job(relay.Node):
    id: relay.NodeID[str]
    status: JobStatus
    total: int | None = strawberry.field(description="Rows, once a first pass has counted them.")
    processed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    started_by: str = strawberry.field(
        description="Who started it: the token's name, `console` for a console session, "
        "`cli:<user>` for the command line."
    )
    # The jobs table's kind of the rows this type shows.
    kind: ClassVar[str]

    @classmethod
    def from_row(cls, row: Record | dict[str, Any]) -> "Job":
        raise NotImplementedError

    @classmethod
    async def resolve_nodes(
        cls,
        *,
        info: Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Any]:
        """The caller's jobs with these ids, in order; None for an unknown id or one of a job of
        another kind (its global id names another type)."""
        rows = await info.context.loaders.jobs.load_many(node_uuids(node_ids))
        return [cls.from_row(r) if r is not None and r["kind"] == cls.kind else None for r in rows]


def _job_fields(row: Record | dict[str, Any]) -> dict[str, Any]:
    """The fields every kind of job has, from its row."""
    return {
        "id": str(row["id"]),
        "status": JobStatus(row["status"]),
        "total": row["total"],
        "processed": row["processed"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "error": row["error"],
        "started_by": row.get("actor") or "",
    }


@strawberry.type
class ImportJob(Job):
    kind: ClassVar[str] = "IMPORT"
    created: int
    updated: int
    deleted: int
    skipped: int = strawberry.field(description="Rows that change nothing, and blank rows.")
    failed: int = strawberry.field(description="Rows with errors, not applied.")
    dry_run: bool
    cancel_requested: bool

    @strawberry.field(description="The rows' problems, by row; `code` narrows to one code.")
    async def row_errors(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        code: str | None = None,
    ) -> RowErrorConnection:
        return await info.context.loaders.job_rows.row_errors(self.id, first, after, code)

    @strawberry.field(description="Each code of the rows' problems, with how many have it.")
    async def row_error_codes(self, info: Info) -> list[RowErrorCount]:
        return await info.context.loaders.job_rows.error_codes(self.id)

    @strawberry.field(description="A dry run's plan, row by row; `action` narrows to one action.")
    async def plan(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        action: PlanAction | None = None,
    ) -> PlannedRowConnection:
        return await info.context.loaders.job_rows.plan(
            self.id, first, after, action.value if action else None
        )

    @strawberry.field(
        description="The failed rows as CSV (their original cells plus an `error` column), to "
        "fix and import again. Needs the same Authorization header."
    )
    def error_report_url(self, info: Info) -> str | None:
        if not self.failed:
            return None
        return f"{info.context.public_url}/jobs/{relay.to_base64('ImportJob', self.id)}/errors.csv"

    @classmethod
    def from_row(cls, row: Record | dict[str, Any]) -> "ImportJob":
        return cls(
            **_job_fields(row),
            created=row["created"],
            updated=row["updated"],
            deleted=row["deleted"],
            skipped=row["skipped"],
            failed=row["failed"],
            dry_run=row["dry_run"],
            cancel_requested=row["cancel_requested"],
        )


@strawberry.type(description="Welcome e-mails to a selection of users.")
class EmailJob(Job):
    kind: ClassVar[str] = "EMAIL"
    sent: int = strawberry.field(description="Users whose e-mail the SMTP server accepted.")
    failed: int = strawberry.field(description="Users who did not get it (see rowErrors).")
    skipped: int = strawberry.field(description="Users deleted or disabled before their turn.")
    cancel_requested: bool

    @strawberry.field(description="The users who did not get the e-mail, and why.")
    async def row_errors(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
    ) -> RowErrorConnection:
        return await info.context.loaders.job_rows.row_errors(self.id, first, after, None)

    @classmethod
    def from_row(cls, row: Record | dict[str, Any]) -> "EmailJob":
        return cls(
            **_job_fields(row),
            sent=row["processed"] - row["failed"] - row["skipped"],
            failed=row["failed"],
            skipped=row["skipped"],
            cancel_requested=row["cancel_requested"],
        )


@strawberry.type(
    description="A CSV export of users (the import's format), downloadable until it expires."
)
class ExportJob(Job):
    kind: ClassVar[str] = "EXPORT"
    total: int | None = strawberry.field(
        description="Users the export covers, counted when it started."
    )
    processed: int = strawberry.field(description="Rows written so far.")
    row_count: int = strawberry.field(description="Rows in the file (the header aside).")
    expires_at: datetime | None = strawberry.field(
        description="When the file is deleted (ROSTER_EXPORT_TTL after it was written)."
    )
    columns: list[str] = strawberry.field(
        description="The file's columns, in order (empty until the export has started, when "
        "they were left to the default)."
    )
    cancel_requested: bool
    has_file: strawberry.Private[bool]
    # A link works while the token that started the export is active: one that `roster export`
    # started (no token) gets none.
    token_started: strawberry.Private[bool]

    @strawberry.field(
        description="The file: GET it with the same Authorization header, or open this link, "
        "signed (HMAC-SHA256) and valid for a limited time (ROSTER_EXPORT_LINK_TTL), without "
        "one, while the token that started the export is active. Null until the export "
        "succeeds, after the file expires, and for an export `roster export` started."
    )
    def download_url(self, info: Info) -> str | None:
        if (
            self.status != JobStatus.SUCCEEDED
            or not self.has_file
            or self.expires_at is None
            or not self.token_started
        ):
            return None
        return info.context.export_link(relay.to_base64("ExportJob", self.id), self.expires_at)

    @classmethod
    def from_row(cls, row: Record | dict[str, Any]) -> "ExportJob":
        succeeded = row["status"] == JobStatus.SUCCEEDED.value
        return cls(
            **_job_fields(row),
            row_count=row["processed"] if succeeded else 0,
            expires_at=row.get("expires_at"),
            columns=list(row["checkpoint"].get("columns") or row["options"].get("columns") or []),
            cancel_requested=row["cancel_requested"],
            has_file=row["file_id"] is not None,
            token_started=row.get("actor_token_id") is not None,
        )


@strawberry.type(
    description="The undoing of an import (revertImport): `deleted` counts the users it "
    "created, deleted again; `updated` the users put back as they were (a user put back but "
    "for a field is counted here, with its row error); `failed` the rows left as they are "
    "(row errors CHANGED_LATER, IDENTIFIER_TAKEN, IMPORT_DELETED); `skipped` the rows with "
    "nothing left to undo. A dry run's `plan` says what it would do, by the import's rows."
)
class RevertJob(ImportJob):
    kind: ClassVar[str] = "REVERT"
    reverts_id: strawberry.Private[Any] = None

    @strawberry.field(description="The import it undoes.")
    async def reverts(self, info: Info) -> ImportJob | None:
        row = await info.context.loaders.jobs.load(self.reverts_id)
        return ImportJob.from_row(row) if row is not None else None

    @strawberry.field(description="Always null: a revert's rows are the import's.")
    def error_report_url(self, info: Info) -> str | None:
        return None

    @classmethod
    def from_row(cls, row: Record | dict[str, Any]) -> "RevertJob":
        job = super().from_row(row)
        assert isinstance(job, RevertJob)
        job.reverts_id = UUID(row["options"]["reverts"])
        return job


# The GraphQL type of each kind of job.
JOB_TYPES: dict[str, type[Job]] = {t.kind: t for t in (ImportJob, RevertJob, EmailJob, ExportJob)}


def job_of(row: Record | dict[str, Any]) -> Job:
    job: Job = JOB_TYPES[row["kind"]].from_row(row)
    return job


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class JobConnection:
    edges: list[JobEdge]
    page_info: relay.PageInfo


@strawberry.type
class JobPayload:
    job: Job | None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="How fast imports ran for this organisation: the rows a second of its latest "
    "successful imports of 1,000 rows or more, dry runs apart; null before there is any."
)
class ImportSpeed:
    rows_per_second: float | None
    dry_run_rows_per_second: float | None
    imports_measured: int

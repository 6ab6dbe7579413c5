"""Plain HTTP next to /graphql: POST /imports (the raw CSV as the body, for curl) and the
downloadable error report of an import."""

import csv
import io
from collections.abc import AsyncIterator
from enum import Enum
from typing import Any, get_type_hints
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from resolvers.ids import encode_id
from resolvers.jobs import error_report as error_report_records
from resolvers.jobs import start_import
from resolvers.loaders import make_loaders
from resolvers.permissions import CanMutate, can_mutate
from roster.auth import caller
from roster.body_limit import declared_length
from roster.graphql_view import new_context
from roster.httperrors import UNAUTHORIZED, error_response
from rules.csvcolumns import CsvDialect
from rules.echoes import quoted
from rules.userfields import camel
from schema.context import Context
from schema.job import ImportOptions

_TRUE = {"1", "true", "yes", "on"}


async def _context(request: Request) -> Context | Response:
    state = request.state
    principal = await caller(request)
    if principal is None:
        return error_response(401, UNAUTHORIZED)
    context = new_context(request, None)
    context.authenticate(principal, make_loaders(state.pool, principal.tenant_id, state.cursor_key))
    return context


_PARAMETERS = ["name", *(camel(name) for name in get_type_hints(ImportOptions))]
# What a newcomer sends first (`curl -F file=@users.csv`): a form, not the CSV.
_MULTIPART = (
    "POST /imports takes the CSV itself as the request body, not a multipart form: "
    "curl --data-binary @users.csv -H 'Content-Type: text/csv' …; "
    "multipart uploads go to /graphql (the startImport mutation)."
)


def _unknown_parameters(request: Request) -> Response | None:
    """A 400 naming the first query parameter that is no option: `dryrun=true` must not run a
    real import."""
    for given in request.query_params:
        if given not in _PARAMETERS:
            return error_response(
                400,
                f"Unknown query parameter {quoted(given)}; the options are "
                f"{', '.join(_PARAMETERS)}.",
                "UNKNOWN_PARAMETER",
            )
    return None


def _options(request: Request) -> ImportOptions:
    """ImportOptions from query parameters named as its GraphQL fields (mode=UPSERT&dryRun=true
    …); an option left out keeps ImportOptions' default. Raises ValueError for a bad choice."""
    given: dict[str, Any] = {}
    for name, kind in get_type_hints(ImportOptions).items():
        value = request.query_params.get(camel(name))
        if value is None:
            continue
        if isinstance(kind, type) and issubclass(kind, Enum):
            given[name] = kind(value.upper())
        elif kind is bool:
            given[name] = value.lower() in _TRUE
        else:
            given[name] = value
    return ImportOptions(**given)


async def post_import(request: Request) -> Response:
    context = await _context(request)
    if isinstance(context, Response):
        return context
    if not can_mutate(context.principal):
        return error_response(403, CanMutate.message)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return error_response(415, _MULTIPART)
    if (unknown := _unknown_parameters(request)) is not None:
        return unknown
    declared = declared_length(request.headers.get("content-length"))
    if declared is not None and declared > context.max_upload_bytes:
        # Refused unread; a body longer than it says is cut off at the limit by start_import.
        message = f"The file is larger than {context.max_upload_bytes:,} bytes."
        return error_response(413, message, "FILE_TOO_LARGE")
    try:
        options = _options(request)
    except ValueError as e:
        return error_response(400, f"Invalid option: {e}", "INVALID_OPTION")
    payload = await start_import(
        context,
        content=request.stream(),
        name=request.query_params.get("name", "upload.csv"),
        options=options,
        max_bytes=context.max_upload_bytes,
    )
    if payload.job is None:
        first = payload.user_errors[0]
        status = 413 if first.code == "FILE_TOO_LARGE" else 400
        return error_response(status, " ".join(e.message for e in payload.user_errors), first.code)
    return JSONResponse(
        {
            "id": encode_id("ImportJob", UUID(str(payload.job.id))),
            "status": payload.job.status.value,
        },
        status_code=202,
    )


async def error_report(request: Request) -> Response:
    context = await _context(request)
    if isinstance(context, Response):
        return context
    records = await error_report_records(context, request.path_params["id"])
    if records is None:
        return error_response(404, "No such job.")
    return StreamingResponse(
        _csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="import-errors.csv"'},
    )


async def _csv(records: AsyncIterator[list[str]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect=CsvDialect)
    async for record in records:
        writer.writerow(record)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

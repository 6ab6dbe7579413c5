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
from roster.auth import authenticate
from roster.body_limit import declared_length
from roster.graphql_view import new_context
from rules.csvcolumns import CsvDialect
from rules.userfields import camel
from schema.context import Context
from schema.job import ImportOptions

_TRUE = {"1", "true", "yes", "on"}


async def _context(request: Request) -> Context | Response:
    state = request.state
    principal = await authenticate(state.pool, request.headers.get("authorization"))
    if principal is None:
        return JSONResponse(
            {"error": "Unauthorized: send a valid token as `Authorization: Bearer <token>`."},
            status_code=401,
        )
    context = new_context(request, None)
    context.authenticate(principal, make_loaders(state.pool, principal.tenant_id))
    return context


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
        return JSONResponse({"error": CanMutate.message}, status_code=403)
    declared = declared_length(request.headers)
    if declared is not None and declared > context.max_upload_bytes:
        # Refused unread; a body longer than it says is cut off at the limit by start_import.
        message = f"The file is larger than {context.max_upload_bytes:,} bytes."
        error = {"field": ["file"], "code": "FILE_TOO_LARGE", "message": message}
        return JSONResponse({"errors": [error]}, status_code=413)
    try:
        options = _options(request)
    except ValueError as e:
        return JSONResponse({"error": f"Invalid option: {e}"}, status_code=400)
    payload = await start_import(
        context,
        content=request.stream(),
        name=request.query_params.get("name", "upload.csv"),
        options=options,
        max_bytes=context.max_upload_bytes,
    )
    if payload.job is None:
        errors = [
            {"field": e.field, "code": e.code, "message": e.message} for e in payload.user_errors
        ]
        status = 413 if any(e.code == "FILE_TOO_LARGE" for e in payload.user_errors) else 400
        return JSONResponse({"errors": errors}, status_code=status)
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
        return JSONResponse({"error": "No such job."}, status_code=404)
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

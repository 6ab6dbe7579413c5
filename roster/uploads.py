"""Plain HTTP next to /graphql: POST /imports (the raw CSV as the body, for curl) and the
downloadable error report of an import."""

import csv
import io
from collections.abc import AsyncIterator
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from resolvers.ids import encode_id
from resolvers.jobs import error_report as error_report_records
from resolvers.jobs import start_import
from resolvers.loaders import make_loaders
from roster.auth import authenticate
from roster.graphql_view import new_context
from schema.context import Context
from schema.job import ExtraColumns, ImportMode, ImportOptions, MatchBy, RolesMode

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
    context.authenticate(principal, make_loaders(state.pool, principal.tenant_id, state.cursor_key))
    return context


def _options(request: Request) -> ImportOptions:
    """ImportOptions from query parameters named as in GraphQL (mode=UPSERT&dryRun=true…)."""
    q = request.query_params
    return ImportOptions(
        mode=ImportMode(q.get("mode", "UPSERT").upper()),
        match_by=MatchBy(q.get("matchBy", "EMAIL").upper()),
        roles_mode=RolesMode(q.get("rolesMode", "MERGE").upper()),
        dry_run=q.get("dryRun", "").lower() in _TRUE,
        send_welcome_email=q.get("sendWelcomeEmail", "").lower() in _TRUE,
        delimiter=q.get("delimiter"),
        encoding=q.get("encoding"),
        extra_columns=ExtraColumns(q.get("extraColumns", "REJECT").upper()),
    )


async def post_import(request: Request) -> Response:
    context = await _context(request)
    if isinstance(context, Response):
        return context
    if context.caller.scope != "admin":
        return JSONResponse({"error": "This token is read-only."}, status_code=403)
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
    writer = csv.writer(buffer)
    async for record in records:
        writer.writerow(record)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

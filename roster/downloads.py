"""GET /exports/<id>.csv: an export's file, for a token of its tenant or through the signed link
its downloadUrl gives (for a browser, which sends no Authorization header). A signed link works
only while the token that started the export is active: revoking a token revokes the links to
what it exported, in every process at once (the token is looked up in PostgreSQL)."""

import time
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

from asyncpg import Pool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from db import files, jobs, secrets
from db.tenancy import act_for
from resolvers.exports import StarterRevoked, export_download
from resolvers.ids import decode_id
from roster.auth import caller
from roster.httperrors import UNAUTHORIZED, error_response
from rules.downloads import link_valid, signed_query

LINK_KEY = "export_links"
REVOKED = (
    "This link no longer works: the token that started the export is no longer active. "
    "Download the file with an active token (Authorization: Bearer …)."
)


def export_path(global_id: str) -> str:
    return f"/exports/{global_id}.csv"


async def load_signing_key(pool: Pool) -> bytes:
    async with pool.acquire() as conn:
        key = await secrets.get_secret(conn, LINK_KEY)
    if key is None:
        raise RuntimeError("The database has no key for download links: run `roster migrate`.")
    return key


class ExportLinks:
    """Makes ExportJob.downloadUrl: a link to the file built from PUBLIC_URL, signed until
    `link_ttl` seconds from now and never past the file's expiry (None once it has expired)."""

    def __init__(self, key: bytes, public_url: str, link_ttl: float) -> None:
        self.key = key
        self.public_url = public_url.rstrip("/")
        self.link_ttl = link_ttl

    def __call__(self, global_id: str, expires_at: datetime) -> str | None:
        now = time.time()
        until = min(int(now + self.link_ttl), int(expires_at.timestamp()))
        if until <= now:
            return None
        path = export_path(global_id)
        return f"{self.public_url}{path}?{signed_query(self.key, path, until)}"


async def download_export(request: Request) -> Response:
    state = request.state
    global_id = request.path_params["id"]
    query = request.query_params
    if "signature" in query:
        if not link_valid(
            state.signing_key,
            export_path(global_id),
            query.get("expires", ""),
            query["signature"],
            time.time(),
        ):
            return error_response(403, "This link is not valid or has expired: ask for a new one.")
        await _act_for_export(state.pool, global_id)
        try:
            found = await export_download(state.pool, global_id, tenant_id=None, actor=None)
        except StarterRevoked:
            return error_response(403, REVOKED)
    else:
        principal = await caller(request)
        if principal is None:
            return error_response(401, UNAUTHORIZED)
        found = await export_download(
            state.pool, global_id, tenant_id=principal.tenant_id, actor=principal
        )
    if found is None:
        return error_response(404, "No such export, or its file has expired.")
    file_id, size = found
    return StreamingResponse(
        _chunks(state.pool, file_id),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="users.csv"',
            "content-length": str(size),
            # A link may be shared by mistake: no cache keeps the file, no page the link.
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
        },
    )


async def _act_for_export(pool: Pool, global_id: str) -> None:
    """A signed link names an export and no organisation: the rest of the request works for
    the export's (any organisation's job, 0018), when there is such an export."""
    job_id = decode_id(global_id, "ExportJob")
    if job_id is None:
        return
    async with pool.acquire() as conn:
        tenant_id = await jobs.job_tenant(conn, job_id)
    if tenant_id is not None:
        act_for(tenant_id)


async def _chunks(pool: Pool, file_id: UUID) -> AsyncIterator[bytes]:
    async with pool.acquire() as conn:
        async for chunk in files.read_chunks(conn, file_id):
            yield chunk

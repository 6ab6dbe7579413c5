"""Stored files, in chunks: uploads and exports every instance and worker can reach."""

from collections.abc import AsyncIterator
from uuid import UUID

from asyncpg import Record

from db.pool import Conn

CHUNK_SIZE = 1024 * 1024

INSERT_FILE = "INSERT INTO files (tenant_id, name) VALUES ($1, $2) RETURNING id"
# A file is named by its id alone, as its organisation: row-level security (0018) puts the
# organisation before it in the key. A chunk takes the organisation of its file's row.
INSERT_CHUNK = """
INSERT INTO file_chunks (tenant_id, file_id, seq, data)
SELECT tenant_id, id, $2, $3 FROM files WHERE id = $1
"""
SET_SIZE = "UPDATE files SET size = $2 WHERE id = $1"
# Complete once its job is recorded, in the same transaction: an upload whose API instance died
# midway stays incomplete, and goes with the other abandoned ones.
COMPLETE_FILE = "UPDATE files SET complete = true WHERE id = $1"
# Every organisation's (0018).
DELETE_ABANDONED = "SELECT roster_delete_abandoned_files($1)"
CHUNK_SEQS = "SELECT seq FROM file_chunks WHERE file_id = $1 ORDER BY seq"
READ_CHUNK = "SELECT data FROM file_chunks WHERE file_id = $1 AND seq = $2"
DELETE_FILE = "DELETE FROM files WHERE id = $1"
GET_FILE = "SELECT id, tenant_id, name, size, complete, created_at FROM files WHERE id = $1"


async def create_file(conn: Conn, tenant_id: UUID, name: str) -> UUID:
    file_id: UUID = await conn.fetchval(INSERT_FILE, tenant_id, name)
    return file_id


async def add_chunk(conn: Conn, file_id: UUID, seq: int, data: bytes) -> None:
    await conn.execute(INSERT_CHUNK, file_id, seq, data)


async def set_size(conn: Conn, file_id: UUID, size: int) -> None:
    await conn.execute(SET_SIZE, file_id, size)


async def complete_file(conn: Conn, file_id: UUID) -> None:
    await conn.execute(COMPLETE_FILE, file_id)


async def delete_abandoned_files(conn: Conn, older_than_seconds: float) -> int:
    """Deletes uploads that never became a job, any organisation's; returns how many."""
    deleted: int = await conn.fetchval(DELETE_ABANDONED, older_than_seconds)
    return deleted


async def get_file(conn: Conn, file_id: UUID) -> Record | None:
    return await conn.fetchrow(GET_FILE, file_id)


async def delete_file(conn: Conn, file_id: UUID) -> None:
    await conn.execute(DELETE_FILE, file_id)


async def read_chunks(conn: Conn, file_id: UUID) -> AsyncIterator[bytes]:
    """The file's bytes, one chunk at a time (never the whole file in memory)."""
    for seq in [r["seq"] for r in await conn.fetch(CHUNK_SEQS, file_id)]:
        data: bytes = await conn.fetchval(READ_CHUNK, file_id, seq)
        yield data

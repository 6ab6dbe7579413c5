"""An export's file as it is written: what PostgreSQL's COPY streams, turned into Roster's CSV
and stored in chunks, each committed with the job's progress."""

import asyncio
import csv
import io
from collections.abc import Sequence
from uuid import UUID

from asyncpg import Record

from db import exports, files, jobs
from db.pool import Conn
from jobs.import_writer import Counters
from jobs.joblock import LockLost
from jobs.lifecycle import Cancelled
from jobs.progress import Publisher
from rules.csvcolumns import CsvDialect, neutralise_cell

BOM = "\ufeff".encode()


class RecordEnds:
    """COPY's CSV, every field quoted and each record ending in LF, as Roster writes CSV: records
    ending in CRLF. An LF inside a quoted field stays as it is: a record ends at an LF after an
    even number of quotes (a quote inside a field is doubled). Counts the records."""

    def __init__(self) -> None:
        self.inside = False
        self.tail = b""
        self.records = 0

    def feed(self, data: bytes) -> bytes:
        """The complete records `data` ends (with what earlier calls left over)."""
        data = self.tail + data if self.tail else data
        end = data.rfind(b"\n") + 1
        self.tail = data[end:]
        if not end:
            return b""
        lines = data[: end - 1].split(b"\n")
        flips = [line.count(b'"') & 1 for line in lines]
        if not self.inside and not any(flips):
            # No field holds a line break: every LF ends a record.
            self.records += len(lines)
            return data[:end].replace(b"\n", b"\r\n")
        out = []
        for line, flip in zip(lines, flips, strict=True):
            self.inside ^= bool(flip)
            out.append(line)
            out.append(b"\n" if self.inside else b"\r\n")
            self.records += not self.inside
        return b"".join(out)

    def close(self) -> None:
        if self.tail or self.inside:
            raise ValueError("the CSV stream ended inside a record")


def header_line(columns: Sequence[str]) -> bytes:
    """The header record, as Roster writes every CSV (rules/csvcolumns.py)."""
    text = io.StringIO()
    csv.writer(text, dialect=CsvDialect).writerow([neutralise_cell(c) for c in columns])
    return text.getvalue().encode()


class ExportFile:
    """Stores the file chunk by chunk (files.CHUNK_SIZE, on `conn`, outside the snapshot's
    transaction); each chunk commits with the job's progress, then the job's cancel request is
    looked at: the export stops between chunks. It stops the COPY (backend `copy_pid`) by
    cancelling its query from `conn`, not by raising from the COPY's output: asyncpg 0.30 hangs
    when that output raises on a COPY's last message."""

    def __init__(
        self,
        conn: Conn,
        tenant_id: UUID,
        job_id: UUID,
        file_id: UUID,
        columns: Sequence[str],
        publisher: Publisher,
        *,
        total: int,
        copy_pid: int,
        fence: int,
    ) -> None:
        self.conn = conn
        self.fence = fence  # this run's token: progress is recorded only while it is the job's
        # The users counted when the export started, from the snapshot it writes.
        self.total = total
        self.copy_pid = copy_pid
        self.cancelled = False
        self.error: Exception | None = None
        self.tenant_id = tenant_id
        self.job_id = job_id
        self.file_id = file_id
        self.publisher = publisher
        self.ends = RecordEnds()
        self.buffer = bytearray(BOM + header_line(columns))
        self.seq = 0
        self.size = 0
        self.reported = 0
        self.job: Record | None = None
        # The chunk being stored while COPY goes on (PostgreSQL stores one on one core while
        # it reads the next on the other); at most one, so memory stays at two chunks.
        self.storing: asyncio.Task[None] | None = None

    @property
    def records(self) -> int:
        return self.ends.records

    async def write(self, data: bytes) -> None:
        # Never raises: see the class's docstring. A failure stops the COPY; close() raises it.
        if self.cancelled or self.error is not None:
            return  # what the COPY sent before it stopped
        self.buffer += self.ends.feed(data)
        while len(self.buffer) >= files.CHUNK_SIZE and not self.cancelled:
            chunk = bytes(self.buffer[: files.CHUNK_SIZE])
            del self.buffer[: files.CHUNK_SIZE]
            try:
                await self._stored()
            except Exception as e:
                self.error = e
                await exports.cancel_query(self.conn, self.copy_pid)
                return
            if self.cancelled:
                return  # met by the chunk just stored
            self.storing = asyncio.create_task(self._store(chunk, self.records))

    async def close(self) -> None:
        """Stores what is left. Raises Cancelled for a cancelled export, ValueError for a stream
        that ended inside a record."""
        await self._stored()
        if self.error is not None:
            raise self.error
        if self.cancelled:
            raise Cancelled
        self.ends.close()
        if self.buffer:
            await self._store(bytes(self.buffer), self.records)
            self.buffer.clear()
        await files.set_size(self.conn, self.file_id, self.size)

    async def abandon(self) -> None:
        """Waits for the chunk being stored, whatever becomes of it: the export failed."""
        if self.storing is not None:
            await asyncio.gather(self.storing, return_exceptions=True)
            self.storing = None

    async def _stored(self) -> None:
        """Waits for the chunk being stored (raising what storing it raised)."""
        if self.storing is not None:
            storing, self.storing = self.storing, None
            await storing

    async def _store(self, chunk: bytes, records: int) -> None:
        """Stores a chunk holding the records up to `records`, with the job's progress."""
        progress = Counters(processed=records - self.reported)
        async with self.conn.transaction():
            await files.add_chunk(self.conn, self.file_id, self.seq, chunk)
            job = await jobs.add_progress(self.conn, self.job_id, progress.as_dict(), self.fence)
            if job is None:
                raise LockLost  # a later run has the job
            self.job = job
            cancel = await jobs.cancel_requested(self.conn, self.job_id)
        self.reported += progress.processed
        self.seq += 1
        self.size += len(chunk)
        await self.publisher.publish(self.job)
        if cancel:
            self.cancelled = True
            await exports.cancel_query(self.conn, self.copy_pid)

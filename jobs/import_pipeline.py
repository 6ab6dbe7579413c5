"""The import's pipeline: reads the next chunk of the file ahead and claims its keys while chunks
are written, several at once, committing in file order (the rules are `Chunk`'s)."""

import asyncio
import itertools
from collections.abc import Iterator, Sequence

from db import jobs
from db.pool import Conn
from jobs.csvrows import ImportRow
from jobs.import_chunk import Chunk
from jobs.import_plan import KeyClaims
from jobs.import_writer import ChunkWriter
from jobs.progress import Publisher


class ChunkPipeline:
    """Writes a job's chunks from `rows` on, one on each of the writers' connections at once,
    and publishes the job after each. The next chunk is read (in a thread) and claims its keys
    (on a connection of its own) while chunks are written. The first chunk to fail ends the
    run with its error, once the chunks being written have finished."""

    def __init__(
        self,
        writer: ChunkWriter,
        publisher: Publisher,
        rows: Iterator[ImportRow],
        *,
        chunk_rows: int,
        start_after: int,
        written: dict[int, int],
    ) -> None:
        self.writer = writer
        self.publisher = publisher
        self.rows = rows
        self.chunk_rows = chunk_rows
        # The record before the next chunk to read.
        self.position = start_after
        # Chunks written before the job was interrupted: last record by the record before.
        self.written = written
        self.writing: list[tuple[Chunk, asyncio.Future[None]]] = []

    async def run(self, keys_conn: Conn, writer_conns: Sequence[Conn]) -> None:
        free: asyncio.Queue[Conn] = asyncio.Queue()
        for conn in writer_conns:
            free.put_nowait(conn)
        ahead = asyncio.ensure_future(self._read(keys_conn))
        try:
            while True:
                chunk = await ahead
                if not chunk.rows:
                    break
                ahead = asyncio.ensure_future(self._read(keys_conn))
                if chunk.after in self.written:
                    continue  # written before the job was interrupted
                await self._make_room(len(writer_conns))
                chunk.earlier = [c for c, _ in self.writing]
                self.writing.append((chunk, asyncio.ensure_future(self._write(chunk, free))))
            await asyncio.gather(*(w for _, w in self.writing))
        finally:
            # A reading thread cannot be stopped: it finishes its chunk, and its result goes.
            # Chunks being written finish (or fail) before the job ends either way.
            ahead.cancel()
            await asyncio.gather(ahead, *(w for _, w in self.writing), return_exceptions=True)

    async def _read(self, keys_conn: Conn) -> Chunk:
        """The next chunk, its rows' keys claimed; one without rows at the end of the file."""
        after = self.position
        batch = await asyncio.to_thread(_take, self.rows, self.chunk_rows)
        if batch:
            self.position = batch[-1].number - 1
        claims = KeyClaims(batch)
        earlier = await jobs.claim_keys(
            keys_conn, self.writer.tenant_id, self.writer.job_id, claims.claimed()
        )
        duplicates = claims.duplicates_given(earlier)
        return Chunk(after, batch, duplicates, look_alikes=claims.look_alikes)

    async def _make_room(self, writers: int) -> None:
        """Waits until fewer than `writers` chunks are being written; raises the error of one
        that failed."""
        self._raise_failure()
        while len(self.writing) == writers:
            await asyncio.wait([w for _, w in self.writing], return_when="FIRST_COMPLETED")
            self._raise_failure()
            self.writing = [(c, w) for c, w in self.writing if not w.done()]

    def _raise_failure(self) -> None:
        for _, w in self.writing:
            if w.done():
                w.result()  # a chunk's error ends the job

    async def _write(self, chunk: Chunk, free: asyncio.Queue[Conn]) -> None:
        conn = await free.get()
        failed = True
        try:
            job = await self.writer.write(conn, chunk)
            failed = False
        finally:
            chunk.ended(failed)
            free.put_nowait(conn)
        await self.publisher.publish(job)


def _take(rows: Iterator[ImportRow], n: int) -> list[ImportRow]:
    return list(itertools.islice(rows, n))

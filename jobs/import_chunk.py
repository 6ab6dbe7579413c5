"""A chunk of an import's file, and how chunks written at once wait for one another so that they
end as they would one after another."""

import asyncio
from dataclasses import dataclass, field

from jobs.csvrows import ImportRow
from jobs.import_plan import Duplicate, Key, keys


@dataclass(eq=False)
class Chunk:
    """A chunk of the file to write: the record before it, its rows, those of them that repeat
    an earlier row (with that row), and the chunks before it being written at the same time.

    Chunks written at once end as they would one after another: they plan in file order; a
    chunk whose rows need a username, e-mail or external id that an earlier one takes from a
    user (renaming or deleting the user) waits for that one to commit before planning, and a
    chunk that takes one that an earlier chunk's rows looked up waits for it before writing;
    when an earlier chunk fails, the later ones do not commit.

    Its writer calls, in this order: `previous_planned`, `check_earlier`, then in each try
    `wait_for_freed_keys`, `has_planned` and `wait_for_lookups` before it commits; whoever
    runs the writer calls `ended` once it is done, failed or not."""

    after: int
    rows: list[ImportRow]
    duplicates: dict[int, Duplicate]
    # Those of `duplicates` that only look like the earlier row: the field that does.
    look_alikes: dict[int, str] = field(default_factory=dict)
    earlier: list["Chunk"] = field(default_factory=list)
    planned: asyncio.Event = field(default_factory=asyncio.Event)
    written: asyncio.Event = field(default_factory=asyncio.Event)
    failed: bool = False
    freed: set[Key] = field(default_factory=set)

    def keys(self) -> set[Key]:
        """The usernames, e-mails and external ids its rows look up."""
        return {
            key
            for row in self.rows
            if not row.problems and row.number not in self.duplicates
            for key in keys(row)
        }

    async def previous_planned(self) -> None:
        """Waits until the chunk before it has planned: chunks plan in file order."""
        if self.earlier:
            await self.earlier[-1].planned.wait()

    def check_earlier(self) -> None:
        """Raises when a chunk before it failed: this one must not commit what may depend on
        it."""
        if any(c.failed for c in self.earlier):
            raise _EarlierChunkFailed

    async def wait_for_freed_keys(self) -> None:
        """Before planning: waits for the earlier chunks that free a key its rows need."""
        if any(c.freed for c in self.earlier):
            needed = self.keys()
            for earlier in self.earlier:
                if earlier.freed & needed:
                    await earlier.committed()

    def has_planned(self, freed: set[Key]) -> None:
        """Records what its plan frees, for the chunks after it to wait on."""
        # A union over tries: a chunk after this one may have seen what an earlier try freed.
        self.freed |= freed
        self.planned.set()

    async def wait_for_lookups(self) -> None:
        """Before committing: waits for the earlier chunks that looked up a key it frees,
        since they planned with the key still taken."""
        if not self.freed:
            return
        for earlier in self.earlier:
            if not earlier.written.is_set() and self.freed & earlier.keys():
                await earlier.committed()

    def ended(self, failed: bool) -> None:
        """Marks it done, also when it failed: the chunks after it learn so. What they need
        of it is kept on it; the chunks before it go, or every chunk would keep them all."""
        self.failed = failed
        self.planned.set()
        self.written.set()
        self.earlier = []

    async def committed(self) -> None:
        """Waits until it has committed; raises when it failed instead."""
        await self.written.wait()
        if self.failed:
            raise _EarlierChunkFailed


class _EarlierChunkFailed(Exception):
    """A chunk before this one failed: this one must not commit what may depend on it."""

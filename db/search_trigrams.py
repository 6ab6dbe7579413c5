"""Which trigrams of search words are rare (0012_search_rare_trigrams.sql): a long word is
looked up by its rarest few, and a search whose rarest trigram is on few users needs no sample
to be counted."""

from collections.abc import Sequence
from dataclasses import dataclass

from asyncpg import Record

from db.pool import Conn

# Each word's trigrams of three letters or digits (those the sample of 0012 counted), rarest
# first, with the users the rarest are on, estimated in every tenant together (0018's
# roster_users_total, which may count them all). Counted no longer once the users have doubled
# since the sample.
_TRIGRAMS = """
SELECT w.n, c.trigram, counted.trusted,
       coalesce((SELECT share FROM search_trigrams s WHERE s.trigram = c.trigram), 0)
           * counted.users AS users
FROM unnest($1::text[]) WITH ORDINALITY AS w(word, n)
CROSS JOIN LATERAL (
    SELECT DISTINCT substr(f.folded, p, 3) AS trigram
    FROM (SELECT roster_fold(w.word) AS folded) f, generate_series(1, length(f.folded) - 2) p
) c
CROSS JOIN (
    SELECT total AS users, total < 2 * (SELECT users FROM search_trigrams_sampled) AS trusted
    FROM roster_users_total() AS total
) counted
WHERE c.trigram ~ '^[a-z0-9]{3}$'
ORDER BY w.n, users, c.trigram
"""
# A word is looked up by this many of its rarest trigrams, when it has more than twice as many:
# a short one ("garcia") is read almost as fast whole, and every probe is one more pattern
# each row found is checked against.
_PROBES = 3
SAMPLE_TRIGRAMS = "SELECT roster_sample_search_trigrams($1)"


@dataclass(frozen=True, slots=True)
class Trigrams:
    """What the trigram statistics say of a search's words."""

    # The LIKE patterns of the rarest trigrams of each long word.
    probes: dict[str, tuple[str, ...]]
    # At most about how many users (of every tenant) match every word, from the rarest trigram
    # of the rarest word; None when no word has a trigram or the statistics are stale.
    most_matches: float | None


async def word_trigrams(conn: Conn, words: Sequence[str]) -> Trigrams:
    rows = await conn.fetch(_TRIGRAMS, list(words)) if words else []
    by_word: dict[int, list[Record]] = {}
    for row in rows:
        by_word.setdefault(row["n"], []).append(row)
    probes = {
        words[n - 1]: tuple(f"%{r['trigram']}%" for r in found[:_PROBES])
        for n, found in by_word.items()
        if len(found) > 2 * _PROBES
    }
    trusted = bool(rows) and rows[0]["trusted"]
    most = min((found[0]["users"] for found in by_word.values()), default=None)
    return Trigrams(probes, most if trusted else None)


async def sample_trigrams(conn: Conn, *, force: bool = False) -> bool:
    """Samples which trigrams are rare again, if the users have doubled since the last time
    (or `force`); whether it did. A second or so at a million users. Every organisation's
    users (0018)."""
    sampled: bool = await conn.fetchval(SAMPLE_TRIGRAMS, force)
    return sampled

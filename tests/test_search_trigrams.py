"""Long search words looked up by their rarest trigrams (0012_search_rare_trigrams.sql): the same
users as the whole word finds, whatever the word holds, whether the statistics were sampled or
not; the trigrams chosen being the rare ones; the statistics sampled again as users double."""

from typing import Any

import pytest

from db import search_trigrams
from db.pool import connect
from tests.conftest import Api, Tenant
from tests.test_search import Seed, check, generic_users, named_users, seed


def tricky_users() -> list[Seed]:
    """Users whose fields hold a long word, and near misses holding its trigrams (some of them
    all) but not the word."""
    return [
        Seed("antonio.garcia9928", "antonio.garcia9928@correo.es", "Antonio", "García"),
        Seed("antonio.garcia9929", "antonio.garcia9929@correo.es", "Antonio", "García"),
        Seed("garcia9928antonio", "ga9928@correo.es", "Antonio", "Garcia"),
        Seed("ia9928.antonio.garc", "ia9928@correo.es", "Toni", "Garcés"),
        Seed("jmunoz", "jose.munoz.lopez@correo.es", "José María", "Muñoz López"),
        Seed("percent_100%_pure", "p100@example.org", "Cien%Por_Cien", "Back\\Slash"),
        Seed("percentx100yzpure", "px100@example.org", "CienxPoryCien", "BackxSlash"),
        Seed("apushkin", "a.pushkin@example.ru", "Александр", "Пушкин"),
        Seed("user99281234", "phone99281234@example.org", "Phone", "Only"),
        Seed("aaaaaaaaaab", "aaaaaaaaaab@example.org", "Aaaa", "Aaaaaaa"),
    ]


LONG_WORDS = [
    "antonio.garcia9928",
    "ANTONIO.GARCÍA9928",
    "garcia9928",
    "ntonio.garcia992",
    "antonio.garcia9928antonio",  # across two fields: nobody
    "josé.muñoz.lópez",
    "muñoz.lopez@correo",
    "jose.munoz.lopez@correo.es",
    "percent_100%_pure",
    "percent_100%",
    "cien%por_cien",
    "back\\slash",
    "ｐｅｒｃｅｎｔ＿１００％",
    "александр",
    "a.pushkin@example.ru",
    "pushkin@exa",
    "99281234",
    "phone9928123",
    "aaaaaaaaaa",
    "antonio garcia9928",
    "antonio.garcia9928 zzzzzzzzz",
    "9928 ia9",
]


@pytest.fixture
async def users(db_url: str, acme: Tenant, globex: Tenant) -> list[Seed]:
    """Acme's users; globex has the same ones, which must never show up for acme."""
    acme_users = await seed(db_url, acme, named_users() + generic_users() + tricky_users())
    await seed(db_url, globex, tricky_users())
    return acme_users


async def sample(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        assert await search_trigrams.sample_trigrams(conn, force=True)
    finally:
        await conn.close()


async def test_long_words_find_the_same_users_with_or_without_statistics(
    admin: Api, users: list[Seed], db_url: str
) -> None:
    found: dict[str, list[str]] = {}
    for word in LONG_WORDS:
        found[word] = await check(admin, users, word)
    assert found["antonio.garcia9928"] == ["antonio.garcia9928"]
    assert found["garcia9928"] == ["antonio.garcia9928", "garcia9928antonio"]
    assert found["percent_100%_pure"] == ["percent_100%_pure"]
    assert found["antonio.garcia9928antonio"] == []
    await sample(db_url)
    for word in LONG_WORDS:
        assert await check(admin, users, word) == found[word], word


async def trigrams(db_url: str, words: list[str]) -> Any:
    conn = await connect(db_url)
    try:
        return await search_trigrams.word_trigrams(conn, words)
    finally:
        await conn.close()


async def test_the_rarest_trigrams_are_probed(db_url: str, acme: Tenant) -> None:
    many = [
        Seed(f"xgarcia{i:02d}", f"garcia{i:02d}@example.org", "Pepe", "García") for i in range(40)
    ]
    await seed(db_url, acme, [*many, *tricky_users()[:1]])
    # Not sampled yet: probes still, but no word is called rare.
    assert (await trigrams(db_url, ["antonio.garcia9928"])).most_matches is None
    await sample(db_url)
    found = await trigrams(db_url, ["antonio.garcia9928", "garcia", "zz"])
    probes = found.probes["antonio.garcia9928"]
    assert len(probes) == 3
    assert not set(probes) & {"%gar%", "%arc%", "%rci%", "%cia%"}
    # "garcia" is short enough to be read whole; "zz" has no trigram.
    assert set(found.probes) == {"antonio.garcia9928"}
    # On one user: its trigrams are on nobody else. "zz" bounds nothing.
    assert found.most_matches == pytest.approx(1)


async def test_statistics_are_sampled_again_when_users_double(db_url: str, acme: Tenant) -> None:
    await seed(db_url, acme, generic_users())
    conn = await connect(db_url)
    try:
        assert await search_trigrams.sample_trigrams(conn)  # none sampled yet
        assert not await search_trigrams.sample_trigrams(conn)
        assert (await trigrams(db_url, ["user00@acme"])).most_matches is not None
        await seed(db_url, acme, generic_users("more"))
        # Doubled: the old sample no longer calls a word rare, and is taken again.
        assert (await trigrams(db_url, ["user00@acme"])).most_matches is None
        assert await search_trigrams.sample_trigrams(conn)
        assert await conn.fetchval("SELECT users FROM search_trigrams_sampled") == 32
    finally:
        await conn.close()

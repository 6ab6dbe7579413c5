"""Realistic users for benchmarks, loaded with COPY: Spanish and English names (some common,
many rare), e-mail domains, languages, statuses, roles, dates."""

import itertools
import random
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from db.pool import Conn

FIRST_NAMES = (
    "María José Antonio Manuel Francisco Juan David Javier Daniel Carmen Ana Isabel Laura "
    "Lucía Cristina Marta Sara Paula Elena Raquel Pilar Álvaro Ángel Jesús Iñaki Íñigo Inés "
    "Sofía Martín Hugo Pablo Alejandro Adrián Sergio Jorge Rubén Óscar Andrés Ramón Nuria "
    "Mónica Beatriz Rocío Verónica Begoña Núria Jordi Pau Mireia Montserrat Joan "
    "James John Robert Michael William David Richard Joseph Thomas Charles Mary Patricia "
    "Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Emma Olivia Amelia Chloë Zoë "
    "Noël Renée André Siobhán"
).split()
COMMON_LAST_NAMES = (
    "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez "
    "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez "
    "Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro "
    "Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Cortés Castillo Santos Lozano "
    "Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez Herrera Peña Flores "
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
    "Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott "
    "Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker "
    "Evans Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper O'Brien"
).split()
LAST_NAME_WEIGHTS = list(
    itertools.accumulate(1 / (rank + 3) for rank in range(len(COMMON_LAST_NAMES)))
)
SYLLABLES = (
    "al ba be ca ce da do e fa go gue i ja ke la le lo ma me mi na ne ni ño o pa pe que ra re "
    "ri ro sa se so ta te ti to u va ve xa ya za ze zu ber bar ich ech tz ur ri ga"
).split()
DOMAINS_COMMON = ["gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "acme.es", "uni.edu"]
LANGUAGES = ["es"] * 60 + ["en"] * 30 + ["ca"] * 5 + ["fr"] * 5
LEARNING_ROLES = ["student"] * 80 + ["teacher"] * 10 + ["tutor"] * 6 + ["manager"] * 4
CONTENT_ROLES = ["author"] * 5 + ["editor"] * 3 + ["reviewer"] * 2 + ["publisher"]
# Any argon2id hash: users with "a password set" carry it, nothing verifies it here.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"

USER_COLUMNS = [
    "id",
    "tenant_id",
    "username",
    "email",
    "first_name",
    "last_name",
    "language",
    "status",
    "password_hash",
    "welcome_email_sent_at",
    "created_at",
    "updated_at",
    "disabled_at",
]


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and ord(c) < 128).lower()


def rare_last_names(rng: random.Random, count: int) -> list[str]:
    names = set()
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4)))
        names.add(word.capitalize())
    return sorted(names)


def users(
    rng: random.Random, tenant_id: uuid.UUID, count: int, rare: list[str], school_domains: list[str]
) -> Iterator[tuple[Any, ...]]:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for n in range(count):
        first = rng.choice(FIRST_NAMES)
        # A Zipf-like skew, as in Spain's census: García about 8%, rare names rare.
        if rng.random() < 0.15:
            last = rng.choice(rare)
        else:
            last = rng.choices(COMMON_LAST_NAMES, cum_weights=LAST_NAME_WEIGHTS)[0]
        second = rng.choice(COMMON_LAST_NAMES)
        last_name = f"{last} {second}" if rng.random() < 0.5 else last
        fl = ascii_fold(first)
        ll = ascii_fold(last)
        username = f"{fl[0]}{ll}{n}"
        domain = rng.choice(DOMAINS_COMMON) if rng.random() < 0.6 else rng.choice(school_domains)
        email = f"{fl}.{ll}{n}@{domain}"
        created = start + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randint(0, 86400 * 90))
        disabled = rng.random() < 0.1
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            tenant_id,
            username,
            email,
            first,
            last_name,
            rng.choice(LANGUAGES),
            "DISABLED" if disabled else "ACTIVE",
            DUMMY_HASH if rng.random() < 0.5 else None,
            updated if rng.random() < 0.7 else None,
            created,
            updated,
            updated if disabled else None,
        )


async def seed_users(
    conn: Conn, tenant_id: uuid.UUID, count: int, *, seed: int = 42, batch: int = 100_000
) -> None:
    """`count` users with roles on the tenant's two default platforms."""
    rng = random.Random(seed)
    platforms = {
        r["key"]: r["id"]
        for r in await conn.fetch("SELECT id, key FROM platforms WHERE tenant_id = $1", tenant_id)
    }
    rare = rare_last_names(rng, max(count // 20, 100))
    schools = [f"colegio-{ascii_fold(rng.choice(COMMON_LAST_NAMES))}{i}.es" for i in range(2000)]
    rows: list[tuple[Any, ...]] = []
    roles: list[tuple[Any, ...]] = []

    async def flush() -> None:
        await conn.copy_records_to_table("users", records=rows, columns=USER_COLUMNS)
        await conn.copy_records_to_table(
            "user_roles", records=roles, columns=["tenant_id", "user_id", "platform_id", "role"]
        )
        rows.clear()
        roles.clear()

    for row in users(rng, tenant_id, count, rare, schools):
        rows.append(row)
        roles.append((tenant_id, row[0], platforms["learningcloud"], rng.choice(LEARNING_ROLES)))
        if rng.random() < 0.2:
            roles.append((tenant_id, row[0], platforms["contentcloud"], rng.choice(CONTENT_ROLES)))
        if len(rows) >= batch:
            await flush()
    if rows:
        await flush()

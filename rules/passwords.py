"""Password policy (NIST SP 800-63B rev 4) and argon2id hashing off the event loop."""

import asyncio
import gzip
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources

from argon2 import PasswordHasher, Type
from zxcvbn import zxcvbn

# A tenant may lower the minimum length from its default of 15, never below 8 (NIST).
MIN_LENGTH_FLOOR = 8
MIN_LENGTH_CEILING = 64
MAX_LENGTH = 256
# zxcvbn's cost grows with the square of the length (measured here: 3 ms at 16 characters,
# 10-20 ms at 32, 50-80 ms at 64) and an import checks every row's password: it sees the
# first 32 characters, which is where a weak password shows (a password whose first 32 are
# weak is weak).
STRENGTH_PREFIX = 32
# At least 10^8 guesses by zxcvbn's estimate: what a random password of the shortest length a
# tenant may allow (8) takes. zxcvbn's score 3 starts just above it, refusing every 8-character
# password.
MIN_GUESSES_LOG10 = 8

# argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4), above OWASP's
# minimum for argon2id (m=19 MiB, t=2, p=1); the parameters are recorded in each hash.
_HASHER = PasswordHasher(type=Type.ID)


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    code: str
    message: str


@cache
def common_passwords() -> frozenset[str]:
    data = (resources.files("rules") / "data" / "common-passwords.txt.gz").read_bytes()
    # One password a line: some entries contain spaces ("friend of emily").
    return frozenset(line for line in gzip.decompress(data).decode("utf-8").splitlines() if line)


def check_password(
    password: str, *, min_length: int, username: str, email: str
) -> PolicyViolation | None:
    """The first rule `password` breaks, or None. No composition rules, by NIST's advice:
    length, a blocklist, the user's own identifiers, and strength (zxcvbn)."""
    if len(password) < min_length:
        return PolicyViolation(
            "PASSWORD_TOO_SHORT", f"The password must have at least {min_length} characters."
        )
    if len(password) > MAX_LENGTH:
        return PolicyViolation(
            "PASSWORD_TOO_LONG", f"The password must have at most {MAX_LENGTH} characters."
        )
    lowered = password.lower()
    if lowered in common_passwords():
        return PolicyViolation(
            "PASSWORD_TOO_COMMON", "This password is too common; choose another one."
        )
    identifiers = {username.lower(), email.lower(), email.lower().partition("@")[0]}
    if any(len(i) >= 3 and i in lowered for i in identifiers):
        return PolicyViolation(
            "PASSWORD_CONTAINS_IDENTIFIER",
            "The password must not contain the username or the e-mail address.",
        )
    return weakness(password, identifiers)


def weakness(password: str, identifiers: set[str]) -> PolicyViolation | None:
    """What makes `password` easy to guess (a sequence, a repetition, a keyboard walk, words
    with digits), in zxcvbn's words, or None."""
    result = zxcvbn(password[:STRENGTH_PREFIX], user_inputs=sorted(identifiers))
    if result["guesses_log10"] >= MIN_GUESSES_LOG10:
        return None
    feedback = result["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip()
    return PolicyViolation(
        "PASSWORD_TOO_WEAK",
        f"This password is too easy to guess. {advice or 'Add a few uncommon words.'}",
    )


async def check_password_off_loop(
    executor: Executor, password: str, *, min_length: int, username: str, email: str
) -> PolicyViolation | None:
    """check_password in `executor`: the strength estimate takes milliseconds of CPU."""
    check = partial(check_password, min_length=min_length, username=username, email=email)
    return await asyncio.get_running_loop().run_in_executor(executor, check, password)


def hash_password_sync(password: str) -> str:
    return _HASHER.hash(password)


async def hash_password(executor: Executor, password: str) -> str:
    """argon2id takes tens of milliseconds of CPU: it runs in `executor` (a process pool),
    never on the event loop."""
    return await asyncio.get_running_loop().run_in_executor(executor, hash_password_sync, password)

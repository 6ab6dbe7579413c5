"""Relay paging: the arguments, sealed keyset cursors, and the edges and page info of a page."""

import base64
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from strawberry.relay import PageInfo

from resolvers.errors import BadRequest

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    backward: bool
    cursor: str | None


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    if first is not None and last is not None:
        raise BadRequest("Pass `first` or `last`, not both.", "INVALID_PAGINATION")
    if (first is not None and before is not None) or (last is not None and after is not None):
        raise BadRequest(
            "Page forward with `first` and `after`, backward with `last` and `before`.",
            "INVALID_PAGINATION",
        )
    if after is not None and before is not None:
        raise BadRequest("Pass `after` or `before`, not both.", "INVALID_PAGINATION")
    size = first if first is not None else last
    if size is None:
        size = DEFAULT_PAGE_SIZE
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(
            f"`first` and `last` must be between 0 and {MAX_PAGE_SIZE}.", "INVALID_PAGINATION"
        )
    backward = last is not None or before is not None
    return PageRequest(size=size, backward=backward, cursor=before if backward else after)


class Edge(Protocol):
    @property
    def cursor(self) -> str: ...


R = TypeVar("R")
E = TypeVar("E", bound=Edge)


def paginate(
    page: PageRequest,
    rows: Sequence[R],
    edge: Callable[[R], E],
    cursor: Callable[[R], str | None] | None = None,
) -> tuple[list[E], PageInfo]:
    """The edges of `rows`, fetched with a limit of page.size + 1 in the direction of travel,
    in the connection's order, and their page info. The extra row says there is more ahead;
    a cursor given says there is more behind.

    With `cursor`, the page info's cursors come from it, for the first and last rows only: for
    a query that asks no edge's cursor, whose `edge` then makes none (a page's cursors cost
    more than a bare endpoint's whole request), and None where it asks neither."""
    more = len(rows) > page.size
    shown = list(rows[: page.size])
    if page.backward:
        # Paging backward reads the connection's order reversed: turn the page round.
        shown.reverse()
    edges = [edge(r) for r in shown]
    behind = page.cursor is not None
    if cursor is not None:
        start, end = (cursor(shown[0]), cursor(shown[-1])) if shown else (None, None)
    else:
        start, end = (edges[0].cursor, edges[-1].cursor) if edges else (None, None)
    return edges, PageInfo(
        has_next_page=behind if page.backward else more,
        has_previous_page=more if page.backward else behind,
        start_cursor=start,
        end_cursor=end,
    )


def cursor_key(secret: str | bytes) -> bytes:
    """The key page cursors are sealed with (AES-256-SIV wants 64 bytes), derived from the
    server's secret with HMAC-SHA512 under a label of its own, so that the same secret could
    key something else without giving this key away."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.digest(raw, b"roster page cursors v1", "sha512")


@cache
def _sealer(key: bytes) -> AESSIV:
    # Deterministic authenticated encryption (RFC 5297): no nonce to repeat however many
    # cursors a key seals, the same position gives the same cursor, and its tag is the MAC.
    return AESSIV(key)


def encode_cursor(key: bytes, payload: dict[str, Any]) -> str:
    """An opaque cursor for `payload`: encrypted and authenticated with `key` (cursor_key), so
    that no one reads the sort value it holds (a name, an e-mail) nor makes one up."""
    raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(_sealer(key).encrypt(raw, None)).decode().rstrip("=")


def decode_cursor(key: bytes, cursor: str, kind: str) -> dict[str, Any]:
    """The payload of a cursor made by encode_cursor with `key` for `kind`, or a BadRequest
    (for one altered, made up or sealed with another key too)."""
    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(_sealer(key).decrypt(sealed, None))
    except (ValueError, InvalidTag):
        payload = None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise BadRequest("This cursor is not valid here.", "INVALID_CURSOR")
    return payload

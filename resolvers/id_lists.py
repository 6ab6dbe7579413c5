"""How many ids an operation takes at once, and the error past that.

`nodes(ids:)` looks up at most MAX_NODE_IDS objects a call (GitHub's rule for its own `nodes`);
the query cost prices each of them as a row read (roster/query_cost.py). A selection of users —
`enableUsers`, `disableUsers`, `deleteUsers`, `sendWelcomeEmail`, `startExport` and a filter's
`ids` — holds at most MAX_SELECTED_IDS: ten of the largest pages a console selects from, and
little enough that a call's own work on the event loop (decoding the ids, one event per user,
the answer) takes milliseconds. Larger changes are a CSV import's work, larger exports a
filter's. Either cap is checked before anything is decoded or read."""

from collections.abc import Sized

from resolvers.errors import BadRequest
from schema.errors import UserError

MAX_NODE_IDS = 100
MAX_SELECTED_IDS = 1000
TOO_MANY_IDS = "TOO_MANY_IDS"


def _message(count: int, limit: int) -> str:
    return f"{count:,} ids given; at most {limit:,} at once."


def too_many(ids: Sized, limit: int) -> BadRequest | None:
    """The GraphQL error for more than `limit` ids, else None."""
    if len(ids) <= limit:
        return None
    return BadRequest(_message(len(ids), limit), TOO_MANY_IDS)


def too_many_selected(ids: Sized, field: list[str]) -> UserError | None:
    """The userError for a selection of more users than a call takes, else None."""
    if len(ids) <= MAX_SELECTED_IDS:
        return None
    return UserError(field=field, code=TOO_MANY_IDS, message=_message(len(ids), MAX_SELECTED_IDS))

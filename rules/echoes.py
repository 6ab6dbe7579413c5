"""Values quoted back to the caller in error messages, cut to what a person reads.

A message that names the value at fault helps whoever sent it, but only its start: a 500,000-
character key quoted whole made a 500 KB error, and a CSV header cell or an encoding name could
do the same in a job's failure reason."""

import re

# The characters of a value an error message quotes; longer values end in "…".
ECHO_LIMIT = 100
# Any message, whoever wrote it: graphql-core's and Strawberry's quote a scalar's whole value
# ("Value cannot represent a DateTime: …") and a variable's, twice.
MESSAGE_LIMIT = 1000
_QUOTED_RUN = re.compile(r"(['\"])([^'\"]{" + str(ECHO_LIMIT + 1) + r",})\1")


def quoted(value: str, limit: int = ECHO_LIMIT) -> str:
    """`value` quoted as repr quotes it, cut after `limit - 1` characters and an ellipsis."""
    return repr(_cut(value, limit))


def cut_message(message: str) -> str:
    """A message written elsewhere (a library's) with every long quoted run cut as `quoted`
    cuts it, and the whole at MESSAGE_LIMIT characters."""
    if len(message) <= ECHO_LIMIT:
        return message
    message = _QUOTED_RUN.sub(lambda m: m[1] + _cut(m[2], ECHO_LIMIT) + m[1], message)
    return _cut(message, MESSAGE_LIMIT)


def _cut(text: str, limit: int) -> str:
    """`text`, or its first `limit - 1` characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Values quoted back to the caller in error messages, cut to what a person reads.

A message that names the value at fault helps whoever sent it, but only its start: a 500,000-
character key quoted whole made a 500 KB error, and a CSV header cell or an encoding name could
do the same in a job's failure reason."""

# The characters of a value an error message quotes; longer values end in "…".
ECHO_LIMIT = 100


def quoted(value: str, limit: int = ECHO_LIMIT) -> str:
    """`value` quoted as repr quotes it, cut after `limit - 1` characters and an ellipsis."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)

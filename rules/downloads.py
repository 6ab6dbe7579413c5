"""Signed download links: HMAC-SHA256 over what the link opens and until when, so that a
browser can fetch an export without an Authorization header, and only until the link expires."""

import hashlib
import hmac


def signature(key: bytes, path: str, expires: int) -> str:
    """The signature of a link to `path` (e.g. /exports/<id>.csv) valid until `expires` (Unix
    seconds)."""
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_query(key: bytes, path: str, expires: int) -> str:
    return f"expires={expires}&signature={signature(key, path, expires)}"


def link_valid(key: bytes, path: str, expires: str, given: str, now: float) -> bool:
    """Whether `given` signs `path` until `expires`, and that is still in the future."""
    try:
        until = int(expires)
    except ValueError:
        return False
    return until > now and hmac.compare_digest(signature(key, path, until), given)

"""Where the links a `roster` command prints point (a console sign-in link, an import's error
report), said beside them: the command runs in a shell of its own, where PUBLIC_URL may not be
the API's address that `scripts/start` set in its own."""

import os

from roster.settings import Settings


def link_origin(settings: Settings) -> str:
    """A line saying which address the printed links are made on, and where it comes from."""
    if os.environ.get("PUBLIC_URL"):
        return f"links are made on PUBLIC_URL, {settings.public_url}"
    return (
        f"links are made on {settings.public_url}, PUBLIC_URL's default: if the API runs "
        f"elsewhere, set PUBLIC_URL to its address (scripts/start serves on "
        f"http://localhost:$PORT)"
    )

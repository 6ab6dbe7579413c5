"""The links a `roster` command prints say which address they are made on, and where it comes
from (issue #27, item 5): from another shell than scripts/start's, PUBLIC_URL may be unset and
the API on another port."""

import pytest

from roster.cli_public_url import link_origin
from roster.settings import Settings
from tests.conftest import Tenant
from tests.test_cli import roster


async def test_console_link_names_its_origin(db_url: str, acme: Tenant) -> None:
    given = await roster(db_url, "console-link", "--tenant", "acme", PUBLIC_URL="http://h:8001")
    assert given.code == 0, given
    assert given.out.startswith("http://h:8001/console/sign-in#")
    assert "# links are made on PUBLIC_URL, http://h:8001" in given.err


def test_the_default_says_it_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    line = link_origin(Settings())
    assert line.startswith("links are made on http://localhost:8000, PUBLIC_URL's default")
    assert "set PUBLIC_URL" in line
    monkeypatch.setenv("PUBLIC_URL", "http://localhost:8001")
    assert link_origin(Settings()) == "links are made on PUBLIC_URL, http://localhost:8001"

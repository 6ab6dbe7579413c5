"""GraphiQL at /graphql in a real headless Chromium, with the app served by uvicorn on a free
localhost port: the page renders, loads nothing from outside this server, and runs a query with
the token given in its Headers tab."""

import json
import re
from collections.abc import AsyncIterator
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest

from roster.app import create_app
from roster.settings import Settings
from tests.browser import Page
from tests.conftest import Tenant
from tests.live_server import serve

EDITOR = "!!document.querySelector('.graphiql-container .graphiql-query-editor .CodeMirror')"


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as url:
        yield url


def is_local(url: str, server: str) -> bool:
    return url.startswith(("data:", "about:")) or (urlsplit(url).netloc == urlsplit(server).netloc)


async def test_the_page_references_nothing_outside_the_server(server: str) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(f"{server}/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert references, page.text
        assert not [r for r in references if r.startswith(("http:", "https:", "//"))]
        for reference in references:
            if reference.startswith("/"):
                asset = await http.get(f"{server}{reference}")
                assert asset.status_code == 200, reference


async def test_graphiql_renders_without_requests_leaving_localhost(server: str) -> None:
    async with Page() as page:
        await page.goto(f"{server}/graphql")
        await page.wait_for(EDITOR)
        assert await page.evaluate("typeof GraphiQL") == "function"
        assert page.requested
        assert [url for url in page.requested if not is_local(url, server)] == []


async def test_graphiql_runs_a_query_with_the_token_in_its_headers(
    server: str, acme: Tenant
) -> None:
    headers = json.dumps({"Authorization": f"Bearer {acme.admin_token}"})
    query = "{ platforms { key } }"
    async with Page() as page:
        # The page reads its Headers tab and query from the URL, as a shared GraphiQL link does.
        params = urlencode({"headers": headers, "q": query}, quote_via=quote)
        await page.goto(f"{server}/graphql?{params}")
        await page.wait_for(EDITOR)
        await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        result = await page.wait_for(
            "document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue()"
        )
        platforms = json.loads(result)["data"]["platforms"]
        assert sorted(p["key"] for p in platforms) == ["contentcloud", "learningcloud"]
        assert [url for url in page.requested if not is_local(url, server)] == []

"""The users list as an administrator uses it: paging, the total, sorting, searching without
accents, the status filter, and the advanced search kept in the address."""

import re
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, Page, Request, expect

from tests.conftest import Api
from tests.console.checks import assert_accessible
from tests.console.people import add_users, rows, shown
from tests.console.session import list_loaded

USERS_QUERY = "query Users("


async def test_pages_of_50_the_total_sorting_and_a_search_without_accents(
    console: Page, admin: Api
) -> None:
    await add_users(admin, *({"username": f"user{i:02}"} for i in range(1, 56)))
    await add_users(admin, {"username": "jgarcia", "firstName": "José", "lastName": "García"})
    await console.reload()
    await expect(console.get_by_text("56 users")).to_be_visible()
    await expect(rows(console)).to_have_count(50)
    await expect(rows(console).first.get_by_role("link")).to_have_text("jgarcia")
    await assert_accessible(console, "users")

    await console.get_by_role("button", name="Next page").click()
    await expect(rows(console)).to_have_count(6)
    await expect(rows(console).last.get_by_role("link")).to_have_text("user55")
    await console.get_by_role("button", name="Previous page").click()
    await expect(rows(console)).to_have_count(50)
    await expect(rows(console).first.get_by_role("link")).to_have_text("jgarcia")

    # The header of the sorted column sorts the other way when pressed again.
    await console.get_by_role("button", name="Username").click()
    await expect(rows(console).first.get_by_role("link")).to_have_text("user55")
    header = console.get_by_role("columnheader", name="Username")
    await expect(header).to_have_attribute("aria-sort", "descending")
    assert "sort=-username" in console.url

    await console.get_by_role("searchbox", name="Search users").fill("jose")
    await shown(console, "jgarcia")
    await expect(console.get_by_text("1 user", exact=True)).to_be_visible()
    assert "q=jose" in console.url


async def test_the_status_filter(console: Page, admin: Api) -> None:
    ids = await add_users(admin, {"username": "ann"}, {"username": "bob"}, {"username": "cid"})
    await admin.data(
        "mutation($ids: [ID!]!) { disableUsers(ids: $ids) { userErrors { code } } }",
        ids=[ids["bob"]],
    )
    await console.reload()
    await shown(console, "ann", "bob", "cid")
    await console.get_by_role("radio", name="Inactive").check()
    await shown(console, "bob")
    assert "status=disabled" in console.url
    await console.get_by_role("radio", name="Active", exact=True).check()
    await shown(console, "ann", "cid")
    await console.get_by_role("radio", name="All").check()
    await shown(console, "ann", "bob", "cid")


async def test_the_advanced_search_is_kept_in_the_address(console: Page, admin: Api) -> None:
    await add_users(
        admin,
        {
            "username": "ana",
            "email": "ana@acme.es",
            "roles": [{"platform": "learningcloud", "role": "teacher"}],
        },
        {"username": "bea", "email": "bea@acme.es"},
        {"username": "carl", "email": "carl@example.org"},
    )
    await console.reload()
    await shown(console, "ana", "bea", "carl")
    await console.get_by_role("button", name="Advanced search").click()
    form = console.locator("#advanced-search")
    await form.get_by_label("E-mail domain").fill("acme.es")
    await form.get_by_label("Platform").select_option(label="LearningCloud")
    await form.get_by_role("button", name="Search").click()
    await shown(console, "ana")
    assert re.search(r"emailDomain=acme\.es", console.url), console.url
    assert "platform=learningcloud" in console.url
    await assert_accessible(console, "advanced-search")

    # A bookmark: the same address in a fresh load shows the same search.
    await console.reload()
    await list_loaded(console)
    await shown(console, "ana")
    await expect(console.locator("#advanced-search").get_by_label("E-mail domain")).to_have_value(
        "acme.es"
    )


async def test_a_new_tab_asks_once_for_the_session_and_the_first_page(
    console: Page, browser: Browser, admin: Api, server: str
) -> None:
    # An empty cache, the session's cookie: the page itself preloads the session and the plain
    # list's first page, and the console takes those answers rather than asking again.
    await add_users(admin, {"username": "ana"}, {"username": "bob"})
    context = await browser.new_context(
        base_url=server, storage_state=await console.context.storage_state()
    )
    asked: list[tuple[str, str]] = []

    def record(request: Request) -> None:
        address = urlsplit(request.url)
        if address.path == "/console/session":
            asked.append(("session", request.method))
        elif address.path == "/graphql":
            get_query = parse_qs(address.query).get("query", [""])[0]
            if USERS_QUERY in get_query or USERS_QUERY in (request.post_data or ""):
                asked.append(("users", request.method))

    try:
        tab = await context.new_page()
        tab.on("request", record)
        await tab.goto("/console/users")
        await list_loaded(tab)
        await expect(rows(tab)).to_have_count(2)
        assert sorted(asked) == [("session", "GET"), ("users", "GET")]

        # A search's address is not the plain list: the console asks for it itself.
        asked.clear()
        await tab.goto("/console/users?q=ana")
        await list_loaded(tab)
        await expect(rows(tab)).to_have_count(1)
        assert sorted(asked) == [("session", "GET"), ("users", "POST")]
    finally:
        await context.close()

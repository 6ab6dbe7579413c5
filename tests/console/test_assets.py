"""What the console ships, read without a browser: its script stays small, and its page is
served with a Content-Security-Policy that lets no inline or evaluated script run."""

import gzip
import hashlib
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from roster.console import CONSOLE_ASSETS, users_query

BUDGET = 150 * 1024  # issue #22: the console's script under 150 KB gzipped, GraphiQL aside


BUNDLE = CONSOLE_ASSETS / "bundle"


def built() -> dict[str, Any]:
    """What scripts/build-console recorded: each source's digest, each built file's and the
    sources it holds."""
    record: dict[str, Any] = json.loads((BUNDLE / "BUILD.json").read_text())
    return record


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_shipped_script_is_under_150_kb_gzipped() -> None:
    # Every file of the bundle, the browser's whole script (the other screens' included), each
    # compressed on its own as a server would send it: an upper bound of what a browser downloads.
    sizes = {p.name: len(gzip.compress(p.read_bytes(), 6)) for p in BUNDLE.glob("*.js")}
    assert sizes, f"no script in {BUNDLE}"
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    assert total < BUDGET, f"{total} bytes gzipped; the largest: {largest}"


def test_the_bundle_is_built_from_the_modules_as_they_are() -> None:
    # The browser runs the bundle, not the modules: one changed without building again would
    # be a change no browser sees (and the browser tests would test the old code).
    record = built()
    rebuild = "run scripts/build-console and commit what it writes"
    for source, digest in record["sources"].items():
        assert sha256(CONSOLE_ASSETS / source) == digest, f"{source} changed since: {rebuild}"
    modules = {
        p.relative_to(CONSOLE_ASSETS).as_posix()
        for p in CONSOLE_ASSETS.rglob("*.js")
        if BUNDLE not in p.parents
    }
    assert modules == set(record["sources"]), f"modules not in the bundle: {rebuild}"
    for name, file in record["files"].items():
        assert sha256(BUNDLE / name) == file["sha256"], f"bundle/{name} was edited: {rebuild}"
    assert {p.name for p in BUNDLE.iterdir()} == {*record["files"], "BUILD.json"}


async def test_every_console_address_is_served_with_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/console", "/console/users", "/console/users/VXNlcjox", "/console/sign-in"):
        response = await client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        directives = dict((d.split()[0], d.split()[1:]) for d in policy.split(";") if d.strip())
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
        assert directives["script-src"] == ["'self'"], policy
        assert directives["default-src"] == ["'none'"], policy
        assert directives["frame-ancestors"] == ["'none'"], policy


def test_the_page_has_no_inline_script_or_style() -> None:
    # The policy would block them: the page would load without its script or its look.
    html = (CONSOLE_ASSETS / "index.html").read_text()
    lowered = html.lower()
    assert "<style" not in lowered and " style=" not in lowered
    for tag in lowered.split("<script")[1:]:
        opening = tag.split(">", 1)[0]
        assert "src=" in opening, f"inline script: <script{opening}>"


# A static import of an ES module, with `from` or bare, as the modules and the bundle write it;
# dynamic import() is left out: those modules are loaded when a screen first opens.
STATIC_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\./[^'"]+)['"]|^\s*import\s+['"](\./[^'"]+)['"]""",
    re.M,
)


def statically_imported(entry: str) -> set[str]:
    """The modules the page loads with `entry`, as paths under CONSOLE_ASSETS."""
    root = CONSOLE_ASSETS.resolve()
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for match in STATIC_IMPORT.finditer((root / module).read_text()):
            target = (root / module).parent / (match.group(1) or match.group(2))
            todo.append(target.resolve().relative_to(root).as_posix())
    return seen


def test_the_first_screen_is_two_files() -> None:
    # With an empty cache each file on the first list's path costs the browser a few
    # milliseconds (bench/console.py): the page loads the bundle's root and the one file of
    # every other module of the first screen, which imports nothing.
    html = (CONSOLE_ASSETS / "index.html").read_text()
    scripts = re.findall(r'<script type="module" src="/console/static/([^"]+)"', html)
    assert scripts == ["bundle/console.js", "bundle/app.js"]
    assert "modulepreload" not in html
    assert statically_imported("bundle/app.js") == {"bundle/app.js", "bundle/console.js"}
    assert statically_imported("bundle/console.js") == {"bundle/console.js"}
    files = built()["files"]
    assert files["app.js"]["modules"] == ["app.js"]
    assert set(files["console.js"]["modules"]) == statically_imported("app.js") - {"app.js"}


def test_the_first_list_waits_for_no_other_screen_nor_the_subscription_client() -> None:
    # Each of these is loaded when first used or once the page is idle (screens.js, api.js,
    # i18n.js): with an empty cache every file on the first list's path delays its rows.
    first_path = statically_imported("app.js")
    for lazy in ("user.js", "new-user.js", "jobs.js", "i18n-es.js"):
        assert lazy not in first_path
    assert not any(module.startswith("vendor/graphql-ws") for module in first_path)


async def test_the_page_preloads_the_session_and_the_plain_lists_first_page(
    client: httpx.AsyncClient,
) -> None:
    spec = users_query()
    for address in ("/console", "/console/users", "/console/users/"):
        preloads = fetch_preloads((await client.get(address)).text)
        assert preloads[0] == "/console/session", address
        first_page = urlsplit(preloads[1])
        assert first_page.path == "/graphql" and len(preloads) == 2, preloads
        asked = parse_qs(first_page.query)
        # What the list itself asks for (list-state.js imports the same file).
        assert asked["query"] == ["\n".join(spec["query"])]
        assert json.loads(asked["variables"][0]) == spec["firstPage"]
    # A search or another screen: the console asks for its own data, once it has run.
    for address in ("/console/users?q=ana", "/console/users/VXNlcjox", "/console/jobs"):
        assert fetch_preloads((await client.get(address)).text) == ["/console/session"], address
    # The sign-in page has no session yet.
    assert fetch_preloads((await client.get("/console/sign-in")).text) == []


def fetch_preloads(page: str) -> list[str]:
    """The addresses the page preloads as fetches, in order."""
    found = re.findall(r'<link rel="preload" as="fetch" crossorigin[^>]* href="([^"]+)"', page)
    return [unescape(address) for address in found]


async def test_the_files_are_kept_for_a_year_under_a_versioned_address_and_compressed(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/console/users")).text
    addresses = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page)
    assert addresses and all(re.match(r"/console/static/[0-9a-f]{12}/", a) for a in addresses)
    for address in addresses:
        answer = await client.get(address, headers={"accept-encoding": "gzip"})
        assert answer.status_code == 200, address
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        original = (CONSOLE_ASSETS / address.split("/", 4)[4]).read_bytes()
        assert answer.content == original
        if len(original) > 1024:
            assert answer.headers["content-encoding"] == "gzip", address

    # Without the version (or with another one), a file is served but revalidated.
    plain = await client.get("/console/static/app.js")
    assert plain.headers["cache-control"] == "no-cache"
    again = await client.get(
        "/console/static/app.js", headers={"if-none-match": plain.headers["etag"]}
    )
    assert again.status_code == 304
    older = await client.get("/console/static/0123456789ab/app.js")
    assert older.status_code == 200 and older.headers["cache-control"] == "no-cache"
    assert (await client.get("/console/static/nothing.js")).status_code == 404

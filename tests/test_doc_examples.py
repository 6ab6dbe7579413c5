"""The documents cannot drift from Roster (issue #27): every ```graphql block of README.md and
docs/*.md runs against a live Roster and must parse, validate and answer without errors, with a
value for each root field and no userErrors (or exactly what a ```json block right after it
shows); every ```sh block that calls `roster` or curl runs too (bash, against the same server,
`$TOKEN` an admin token of `demo`), exiting 0 and answering what a `# {…}` line shows, unless
an HTML comment on the line before it says why it is not run: `<!-- not run: needs docker -->`.

Blocks run in the documents' order against one organisation, seeded with docs/users.csv, an
app with a webhook and a finished export; a placeholder ("VXNlcjo…", "UGxhdGZvcm06…", a token's
"6f1c…") stands for an object picked when its operation runs (tests/doc_runner.py: the n-th
active user, a disabled one to delete, the newest app, a job no worker takes to cancel, …).

Also: the README's table of commands is `roster --help`'s, and every variable of
docs/configuration.md is read by the code."""

import asyncio
import contextlib
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import arq
import httpx
import pytest
from arq.connections import RedisSettings
from redis.asyncio import Redis

from db import migrate
from jobs.addresses import AddressPolicy
from jobs.webhooks import WebhookConfig
from jobs.worker import Worker, WorkerSettings
from roster.app import create_app
from roster.cli import main
from roster.settings import Settings
from tests.conftest import REDIS_URL, RUN, database_url, make_tenant, no_names
from tests.doc_blocks import ROOT, Block, all_blocks
from tests.doc_runner import SAMPLE, Filler, Live, run_graphql, run_shell
from tests.live_server import bind, serve, uvicorn_loggers_kept
from tests.mailbox import SmtpServer, mail_config
from tests.workers import stop_worker

BLOCKS = all_blocks()
RUNNABLE = [
    b
    for b in BLOCKS
    if b.not_run is None and (b.lang == "graphql" or (b.lang == "sh" and b.calls_roster()))
]
JOB = "query($id: ID!) { job(id: $id) { status error } }"


async def _graphql(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _finished(http: httpx.AsyncClient, token: str, job_id: str) -> None:
    for _ in range(300):
        job = (await _graphql(http, token, JOB, id=job_id))["job"]
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert job["status"] == "SUCCEEDED", job
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


async def _seed(url: str, token: str) -> None:
    """What the examples name: the sample users, an app with a webhook and a delivery, a
    finished export."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        uploaded = await http.post(
            "/imports",
            content=SAMPLE.read_bytes(),
            headers={"authorization": f"Bearer {token}"},
        )
        assert uploaded.status_code == 202, uploaded.text
        await _finished(http, token, uploaded.json()["id"])
        app = await _graphql(
            http,
            token,
            """mutation { createPlatform(input: {key: "crm", name: "CRM", roles: ["member"],
               webhookUrl: "https://crm.example.com/hooks/roster"}) {
               platform { id } userErrors { code } } }""",
        )
        platform_id = app["createPlatform"]["platform"]["id"]
        await _graphql(
            http,
            token,
            "mutation($p: ID!) { sendTestWebhook(platformId: $p) { delivery { id } } }",
            p=platform_id,
        )
        export = await _graphql(http, token, "mutation { startExport { job { id } } }")
        await _finished(http, token, export["startExport"]["job"]["id"])


@contextlib.asynccontextmanager
async def _worker(db_url: str, smtp: SmtpServer) -> AsyncIterator[None]:
    """A worker in this event loop, beside the server (it beats, as `roster worker` does);
    its e-mails go to `smtp`, and it resolves no host name (webhooks go nowhere)."""
    webhooks = WebhookConfig(
        timeout=2, poll_interval=0.1, addresses=AddressPolicy(resolve=no_names)
    )
    worker = Worker(
        **{
            **arq.worker.get_kwargs(WorkerSettings),
            "redis_settings": RedisSettings.from_dsn(REDIS_URL),
            "ctx": {
                "database_url": db_url,
                "hash_workers": 1,
                "mail": mail_config(smtp.url),
                "webhooks_config": webhooks,
            },
            "poll_delay": 0.05,
            "cron_jobs": [],
            "handle_signals": False,
        }
    )
    task = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        await stop_worker(worker, task)


@pytest.fixture(scope="module")
async def live(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    db_url = database_url(f"roster_docs_{RUN}_{uuid.uuid4().hex[:8]}")
    await migrate.create_database(db_url, template=template_db)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    smtp = SmtpServer().start()
    workdir = tmp_path_factory.mktemp("docs")
    (workdir / "docs").mkdir()
    try:
        demo = await make_tenant(db_url, "demo")
        acme = await make_tenant(db_url, "acme")
        bound = bind()
        settings = Settings(
            database_url=db_url,
            redis_url=REDIS_URL,
            public_url=bound[1],
            hash_workers=2,
            debug=False,
            webhook_resolver=no_names,
        )
        with uvicorn_loggers_kept():
            async with serve(create_app(settings), bound) as url, _worker(db_url, smtp):
                await _seed(url, demo.admin_token)
                yield Live(url, db_url, REDIS_URL, demo.id, demo.admin_token, acme.id, workdir)
    finally:
        smtp.stop()
        await redis.flushdb()
        await redis.aclose()
        await migrate.drop_database(db_url)


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.where)
async def test_the_example_runs(live: Live, block: Block) -> None:
    filler = Filler(live)
    if block.lang == "graphql":
        problems = await run_graphql(block, live, filler)
    else:
        others = block.other_commands()
        assert not others, (
            f"{block.where} runs {', '.join(sorted(others))} besides roster and curl, which this "
            f"test does not run: mark it with `<!-- not run: the reason -->` on the line before"
        )
        problems = await run_shell(block, live, filler)
    assert not problems, "\n".join(problems)


def test_every_block_is_run_or_says_why_not() -> None:
    """A block marked not run must say why; the ones that must run are found at all."""
    assert {b.lang for b in RUNNABLE} == {"graphql", "sh"}
    for block in BLOCKS:
        if block.not_run is not None:
            assert len(block.not_run) >= 10, f"{block.where}: say why it is not run"


def test_every_json_block_parses() -> None:
    for block in BLOCKS:
        if block.lang == "json":
            try:
                json.loads(block.text)
            except ValueError as error:
                raise AssertionError(f"{block.where}: {error}") from None


# --- The README's commands, the configuration's variables --------------------------------------


def _help(*command: str) -> str:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), pytest.raises(SystemExit):
        main([*command, "--help"])
    return captured.getvalue()


def _commands(help_text: str) -> list[str]:
    """The subcommands a --help lists (`{migrate,serve,…}`)."""
    found = re.search(r"^\s*\{([\w,-]+)\}", help_text, re.MULTILINE)
    return found.group(1).split(",") if found else []


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", help_text)) - {"--help"}


def _readme_commands() -> dict[str, set[str]]:
    """The README's table of commands: each command (with its subcommand) and its options."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, set[str]] = {}
    for row in section.splitlines():
        if not row.startswith("| `roster "):
            continue
        for usage in re.findall(r"`roster ([^`]+)`", row.split(" | ")[0]):
            words = usage.split()
            path = " ".join(words[:2] if words[0] in ("tenant", "token") else words[:1])
            found.setdefault(path, set()).update(re.findall(r"(--[a-z][a-z-]*)", usage))
    return found


def test_the_readme_lists_every_command_and_nothing_else() -> None:
    listed = _readme_commands()
    commands: dict[str, set[str]] = {}
    for command in _commands(_help()):
        subcommands = _commands(_help(command))
        for sub in subcommands or [""]:
            path = f"{command} {sub}".strip()
            commands[path] = _options(_help(*path.split()))
    assert sorted(listed) == sorted(commands), "README.md's table of commands against roster --help"
    for path, options in commands.items():
        assert listed[path] == options, f"roster {path}: the README lists {sorted(listed[path])}"


def _documented_variables() -> dict[str, list[str]]:
    """docs/configuration.md's variables, by the section (table) that lists them."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title = section.splitlines()[0]
        for row in section.splitlines():
            if row.startswith("| `"):
                found.setdefault(title, []).extend(
                    re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])
                )
    return found


# Where each table's variables are read: Roster's by its Python code, scripts/start's by the
# shell scripts, the tests' by their conftest. TMPDIR is read by Python's tempfile, which
# jobs/scratch.py asks.
READERS = {
    "Roster": [
        p for d in ("roster", "jobs", "db", "rules", "resolvers") for p in (ROOT / d).rglob("*.py")
    ],
    "scripts/start": [ROOT / "scripts" / "start", ROOT / "scripts" / "lib.sh"],
    "Tests (scripts/test)": [ROOT / "tests" / "conftest.py"],
}
THROUGH_THE_STANDARD_LIBRARY = {"TMPDIR": ("jobs/scratch.py", "tempfile.gettempdir()")}


def test_every_documented_variable_is_read() -> None:
    documented = _documented_variables()
    assert set(documented) == set(READERS), sorted(documented)
    for section, names in documented.items():
        code = "\n".join(p.read_text(encoding="utf-8") for p in READERS[section])
        for name in names:
            if name in THROUGH_THE_STANDARD_LIBRARY:
                path, call = THROUGH_THE_STANDARD_LIBRARY[name]
                assert call in (ROOT / path).read_text(encoding="utf-8"), name
                continue
            pattern = rf"[\"']{name}[\"']" if section == "Roster" else rf"\b{name}\b"
            assert re.search(pattern, code), f"{name} ({section}) is read nowhere"
    assert sum(len(names) for names in documented.values()) >= 35


def test_every_variable_the_settings_read_is_documented() -> None:
    settings = (ROOT / "roster" / "settings.py").read_text(encoding="utf-8")
    read = set(
        re.findall(r"[\"']((?:ROSTER|SMTP|DATABASE|REDIS|PUBLIC)_[A-Z0-9_]*)[\"']", settings)
    )
    assert read, "no variable found in roster/settings.py"
    assert read <= set(_documented_variables()["Roster"]), sorted(
        read - set(_documented_variables()["Roster"])
    )


async def test_a_drifted_example_fails(live: Live) -> None:
    """What the examples are held to: a renamed field, a code that is not the one shown, a
    route that moved, each make a block fail, saying where."""
    where = ROOT / "docs" / "api.md"

    def block(lang: str, text: str, answer: str | None = None) -> Block:
        return Block(where, 1, lang, text, answer=answer)

    filler = Filler(live)
    with pytest.raises(AssertionError, match="docs/api.md:1: the block does not parse"):
        await run_graphql(block("graphql", "query { users( }"), live, filler)
    renamed = await run_graphql(block("graphql", "query { platforms { slug } }"), live, filler)
    assert renamed and renamed[0].startswith("docs/api.md:1: errors:"), renamed
    unknown = 'query { user(username: "nobody") { id } }'
    assert await run_graphql(block("graphql", unknown), live, filler) == [
        f"docs/api.md:1: user answered null\n  in: {unknown}"
    ]
    taken = """mutation { createUser(input: {username: "lnunez", email: "x@example.com",
      firstName: "X", lastName: "Y"}) { userErrors { code } } }"""
    refused = await run_graphql(block("graphql", taken), live, filler)
    assert len(refused) == 1 and "userErrors: [{'code': 'USERNAME_TAKEN'}]" in refused[0], refused
    verdict = 'query { passwordVerdict(password: "987654321098765432") { code } }'
    shown = '{"data": {"passwordVerdict": {"code": "PASSWORD_TOO_COMMON"}}}'
    wrong = await run_graphql(block("graphql", verdict, shown), live, filler)
    assert len(wrong) == 1 and "'PASSWORD_TOO_WEAK', the document shows" in wrong[0], wrong
    moved = 'curl -s localhost:8000/graphq -H "Authorization: Bearer $TOKEN"\n'
    failed = await run_shell(block("sh", moved), live, filler)
    assert len(failed) == 1 and failed[0].startswith("docs/api.md:1: exit code 22"), failed

"""The layers of docs/architecture.md, read off the code: imports go downward only, SQL is written
in db/ alone, arq stays in the module that queues jobs and the one that runs them, and the API
process loads no job code."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What each package may import of the others.
ALLOWED = {
    "roster": {"resolvers", "schema", "jobs", "db", "rules"},
    "resolvers": {"schema", "jobs", "db", "rules"},
    "schema": {"rules"},
    "jobs": {"db", "rules"},
    "db": set(),
    "rules": set(),
}
# Type-only imports that cross a layer: the context names the queue's client type and the
# webhook address policy.
TYPE_ONLY = {("schema/context.py", "jobs.queue"), ("schema/context.py", "jobs.addresses")}
# What the API process may load of jobs/: queueing, progress relaying, password hashing, the
# mail settings and the webhook address check (a URL is checked when registered); no module
# that runs a job.
API_JOB_MODULES = {
    "jobs",
    "jobs.queue",
    "jobs.progress",
    "jobs.hashpool",
    "jobs.mail",
    "jobs.addresses",
}


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def sources() -> list[tuple[str, Path]]:
    return [(package, p) for package in ALLOWED for p in sorted((ROOT / package).rglob("*.py"))]


def test_imports_go_downward_only() -> None:
    climbing = []
    for package, path in sources():
        name = str(path.relative_to(ROOT))
        for module in imports(path):
            top = module.split(".")[0]
            if top in ALLOWED and top != package and top not in ALLOWED[package]:
                if (name, module) not in TYPE_ONLY:
                    climbing.append(f"{name} imports {module}")
    assert climbing == []


# The start of a statement, as db/ writes them (upper-case keywords).
SQL = re.compile(
    r"\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s+(RECURSIVE\s+)?\w+"
    r"\s+AS\s*\(|LISTEN\s|NOTIFY\s|COPY\s|SET\s+(LOCAL\s+)?\w+\s*(=|TO)\s)"
)


def test_sql_is_written_in_db_only() -> None:
    written = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for package, path in sources()
        if package != "db"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value)
    ]
    assert written == []


def test_arq_is_imported_by_the_queue_and_the_worker_only() -> None:
    users = {
        str(path.relative_to(ROOT))
        for _, path in sources()
        if any(m.split(".")[0] == "arq" for m in imports(path))
    }
    assert users == {"jobs/queue.py", "jobs/worker.py"}


def test_the_api_process_loads_no_job_code() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, roster.app, roster.cli_jobs; "
            "print(' '.join(m for m in sys.modules if m.split('.')[0] == 'jobs'))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(loaded) <= API_JOB_MODULES, set(loaded) - API_JOB_MODULES

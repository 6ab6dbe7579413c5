"""ROSTER_PLAIN_EXECUTION=off leaves the execution engine unloaded: an upgrade of Strawberry or
graphql-core that breaks it cannot stop Roster running on stock Strawberry. Checked in a fresh
process, where the engine's modules are made to fail on import as a broken upgrade would."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every module of the engine but its WebSocket handler, which both modes need.
EXECUTION_MODULES = {
    "roster.execution.engine",
    "roster.execution.plain_execution",
    "roster.execution.plans",
    "roster.execution.prepared",
    "roster.execution.compiled",
    "roster.execution.inputs",
    "roster.execution.subscriptions",
    "roster.execution.arguments",
    "roster.execution.info",
}
SCRIPT = """
import asyncio, json, sys
from importlib.abc import MetaPathFinder

broken = set(sys.argv[1:])

class BrokenUpgrade(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in broken:
            raise ImportError(f"{name}: broken by an upgrade")
        return None

sys.meta_path.insert(0, BrokenUpgrade())
from roster.app import create_app
from roster.graphql_schema import build_schema
from roster.settings import Settings

create_app(Settings())
schema = build_schema(Settings())
result = asyncio.run(schema.execute("{ __typename }"))
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.startswith("roster.execution")),
    "data": result.data,
    "errors": [e.message for e in result.errors or []],
    "info": schema.config.info_class.__module__,
}))
"""


def run(switch: str, broken: set[str]) -> dict[str, object]:
    environment = {**os.environ, "ROSTER_PLAIN_EXECUTION": switch}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *sorted(broken)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_with_the_switch_off_no_execution_module_is_loaded() -> None:
    answer = run("off", EXECUTION_MODULES)
    assert answer["loaded"] == ["roster.execution", "roster.execution.websocket"]
    assert answer["data"] == {"__typename": "Query"} and answer["errors"] == []
    assert answer["info"] == "strawberry.types.info"  # Strawberry's own


def test_with_the_switch_on_the_engine_runs() -> None:
    answer = run("on", set())
    assert EXECUTION_MODULES <= set(answer["loaded"])  # type: ignore[arg-type]
    assert answer["data"] == {"__typename": "Query"} and answer["errors"] == []
    assert answer["info"] == "roster.execution.info"

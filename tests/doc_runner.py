"""Runs the documents' examples (tests/doc_blocks.py) against a live Roster: a GraphQL block's
operations one by one over HTTP (a subscription over WebSocket), placeholders such as
"VXNlcjo…" filled with ids of what the test made; a shell block through bash, with `roster`
and curl reaching the live server. Each run returns what went wrong, as sentences a reader of
the failing test can act on."""

import asyncio
import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    parse,
)
from httpx_ws import aconnect_ws

from db import jobs, tokens
from db.events import Actor
from db.pool import Conn, connect
from roster.auth import new_token, token_hash
from rules.ids import encode_id
from tests.doc_blocks import PLACEHOLDER, ROOT, Block, id_type, mismatches, shown_outputs

SAMPLE = ROOT / "docs" / "users.csv"
# Bash for a shell block: stop at the first failing command, and curl failing on an HTTP error
# (printing the answer), as a reader would notice one.
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 30 "$@"; }\n'


@dataclass(frozen=True)
class Live:
    """The Roster the examples run against, and the organisations they name."""

    url: str
    db_url: str
    redis_url: str
    tenant_id: UUID  # `demo`, whose admin token is $TOKEN
    token: str
    other_tenant_id: UUID  # `acme`, which docs/console.md and docs/operations.md name
    workdir: Path  # where shell blocks run: users.csv and docs/users.csv are there


class Filler:
    """The id a placeholder stands for: made or picked when the operation runs, by what the
    argument is for, so that each example can do what it shows."""

    def __init__(self, live: Live) -> None:
        self.live = live

    async def global_id(self, type_name: str, field: str | None, index: int) -> str:
        conn = await connect(self.live.db_url)
        try:
            row_id = await self._pick(conn, type_name, field, index)
        finally:
            await conn.close()
        if row_id is None:
            raise LookupError(f"the test has no {type_name} for {field or 'this'} (#{index})")
        return encode_id(type_name, row_id)

    async def _pick(self, conn: Conn, type_name: str, field: str | None, index: int) -> UUID | None:
        tenant = self.live.tenant_id
        if type_name == "User":
            # The n-th user of the placeholders in one field: deleting needs disabled ones.
            status = "DISABLED" if field == "deleteUsers" else "ACTIVE"
            return await conn.fetchval(
                "SELECT id FROM users WHERE tenant_id = $1 AND status = $2 "
                "ORDER BY lower(username), id OFFSET $3 LIMIT 1",
                tenant,
                status,
                index,
            )
        if type_name == "Platform":
            # The organisation's newest app (the built-in platforms cannot be deleted).
            return await conn.fetchval(
                "SELECT id FROM platforms WHERE tenant_id = $1 AND kind = 'EXTERNAL_APP' "
                "ORDER BY created_at DESC, id DESC LIMIT 1",
                tenant,
            )
        if type_name == "WebhookDelivery":
            return await conn.fetchval(
                "SELECT id FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
                tenant,
            )
        kind = {"ImportJob": "IMPORT", "ExportJob": "EXPORT", "EmailJob": "EMAIL"}[type_name]
        if field == "cancelJob":
            # A job no worker will take: recorded, never queued.
            actor = Actor(token_id=None, name="docs test")
            job = await jobs.create_job(
                conn, tenant, kind, file_id=None, options={}, dry_run=False, actor=actor
            )
            found: UUID = job["id"]
            return found
        # The newest that succeeded (a subscription to it ends), else the newest.
        return await conn.fetchval(
            "SELECT id FROM jobs WHERE tenant_id = $1 AND kind = $2 "
            "ORDER BY status = 'SUCCEEDED' DESC, created_at DESC, id DESC LIMIT 1",
            tenant,
            kind,
        )

    async def token_id(self) -> str:
        """An active token of `acme`, made to be revoked."""
        conn = await connect(self.live.db_url)
        try:
            made = await tokens.insert_token(
                conn, self.live.other_tenant_id, "to revoke", "read", token_hash(new_token())
            )
        finally:
            await conn.close()
        return str(made)


# --- GraphQL ---------------------------------------------------------------------------------


def operations(block: Block) -> list[OperationDefinitionNode]:
    """The block's operations; raises AssertionError naming the block when it does not parse."""
    try:
        document = parse(block.text)
    except GraphQLError as error:
        raise AssertionError(f"{block.where}: the block does not parse: {error}") from None
    found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert found, f"{block.where}: the block holds no operation"
    return found


async def fill(block: Block, operation: OperationDefinitionNode, filler: Filler) -> str:
    """The operation's text with its placeholders replaced, spliced in where they stand."""
    found: list[tuple[int, int, str]] = []
    await _fill_selections(operation.selection_set, filler, found)
    assert operation.loc is not None
    start, text = operation.loc.start, block.text[operation.loc.start : operation.loc.end]
    for begin, end, value in sorted(found, reverse=True):
        text = text[: begin - start] + json.dumps(value) + text[end - start :]
    return text


Found = list[tuple[int, int, str]]


async def _fill_selections(
    selections: SelectionSetNode | None, filler: Filler, found: Found
) -> None:
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            seen: Counter[str] = Counter()
            for argument in selection.arguments or ():
                await _fill_value(argument.value, selection.name.value, seen, filler, found)
        if isinstance(selection, FieldNode | InlineFragmentNode):
            await _fill_selections(selection.selection_set, filler, found)


async def _fill_value(
    value: ValueNode, field: str, seen: Counter[str], filler: Filler, found: Found
) -> None:
    if isinstance(value, ListValueNode):
        for item in value.values:
            await _fill_value(item, field, seen, filler, found)
    elif isinstance(value, ObjectValueNode):
        for object_field in value.fields:
            await _fill_value(object_field.value, field, seen, filler, found)
    elif isinstance(value, StringValueNode) and value.value.endswith("…") and value.loc:
        type_name = id_type(value.value[:-1])
        if type_name is not None:
            filled = await filler.global_id(type_name, field, seen[type_name])
            found.append((value.loc.start, value.loc.end, filled))
            seen[type_name] += 1


def answer_problems(body: dict[str, Any], shown: str | None) -> list[str]:
    """What is wrong with a GraphQL answer: errors, a root field without a value, a userError;
    or, when the document shows the answer, every way it differs from that."""
    if shown is not None:
        return mismatches(json.loads(shown), body)
    if body.get("errors"):
        return [f"errors: {json.dumps(body['errors'], ensure_ascii=False)}"]
    data = body.get("data") or {}
    found = [f"{name} answered null" for name, value in data.items() if value is None]
    found += [
        f"{name} holds a null"
        for name, value in data.items()
        if isinstance(value, list) and None in value
    ]
    found += [f"userErrors: {errors}" for errors in _user_errors(data) if errors]
    return found


def _user_errors(value: Any) -> list[Any]:
    if isinstance(value, dict):
        here = [value["userErrors"]] if "userErrors" in value else []
        return here + [e for v in value.values() for e in _user_errors(v)]
    if isinstance(value, list):
        return [e for v in value for e in _user_errors(v)]
    return []


async def run_graphql(block: Block, live: Live, filler: Filler) -> list[str]:
    found = []
    chosen = operations(block)
    assert block.answer is None or len(chosen) == 1, (
        f"{block.where}: an answer is shown for a block of {len(chosen)} operations"
    )
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as http:
        for operation in chosen:
            text = await fill(block, operation, filler)
            if operation.operation == OperationType.SUBSCRIPTION:
                problems = await _subscribe(http, live.token, text)
            else:
                response = await http.post(
                    "/graphql",
                    json={"query": text},
                    headers={"authorization": f"Bearer {live.token}"},
                )
                if response.status_code != 200:
                    problems = [f"HTTP {response.status_code}: {response.text}"]
                else:
                    problems = answer_problems(response.json(), block.answer)
            found += [f"{block.where}: {p}\n  in: {text}" for p in problems]
    return found


async def _subscribe(http: httpx.AsyncClient, token: str, text: str) -> list[str]:
    """Follows a subscription to its end (at most 30 seconds): what went wrong."""
    found: list[str] = []
    async with aconnect_ws("/graphql", http, subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send_json(init)
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": text}})
        deadline = asyncio.get_running_loop().time() + 30
        nexts = 0
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return [*found, "the subscription did not end within 30 seconds"]
            message = await ws.receive_json(timeout=left)
            if message["type"] == "complete":
                return found + ([] if nexts else ["the subscription ended without a value"])
            if message["type"] != "next":
                return [*found, f"the subscription answered {message}"]
            nexts += 1
            found += answer_problems(message["payload"], None)


# --- Shell -----------------------------------------------------------------------------------


async def shell_script(block: Block, live: Live, filler: Filler) -> str:
    """The block as bash runs it: placeholders filled (not in comments, which show outputs),
    the API's address the live server's."""
    lines = []
    for line in block.text.splitlines():
        if not line.lstrip().startswith("#"):
            for match in PLACEHOLDER.finditer(line):
                line = line.replace(match.group(0), await _shell_value(match.group(1), filler))
        lines.append(line.replace("localhost:8000", live.url.removeprefix("http://")))
    return PRELUDE + "\n".join(lines) + "\n"


async def _shell_value(prefix: str, filler: Filler) -> str:
    type_name = id_type(prefix)
    if type_name is not None:
        return await filler.global_id(type_name, None, 0)
    assert all(c in "0123456789abcdef" for c in prefix), f"unknown placeholder {prefix}…"
    return await filler.token_id()


async def run_shell(block: Block, live: Live, filler: Filler) -> list[str]:
    script = await shell_script(block, live, filler)
    # Each block starts from the sample file (an example may write over users.csv).
    shutil.copy(SAMPLE, live.workdir / "users.csv")
    shutil.copy(SAMPLE, live.workdir / "docs" / "users.csv")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": live.db_url,
        "REDIS_URL": live.redis_url,
        "PUBLIC_URL": live.url,
        "TOKEN": live.token,
    }
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        cwd=live.workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    where = f"{block.where}: "
    if process.returncode != 0:
        return [f"{where}exit code {process.returncode}\n{err.decode()}{out.decode()}\n{script}"]
    return [where + p for p in output_problems(block, out.decode())]


def output_problems(block: Block, out: str) -> list[str]:
    """The shown output (a `# {…}` line) compared with what came; else every JSON answer
    checked for errors."""
    answers = _json_values(out)
    shown = shown_outputs(block.text)
    if shown:
        if len(answers) != len(shown):
            return [f"{len(shown)} outputs shown, {len(answers)} came: {out}"]
        return [p for s, a in zip(shown, answers, strict=True) for p in mismatches(s, a)]
    found = []
    for answer in answers:
        if isinstance(answer, dict) and "error" in answer:
            found.append(f"error: {answer['error']}")
        elif isinstance(answer, dict) and ("data" in answer or "errors" in answer):
            found += answer_problems(answer, None)
    return found


def _json_values(out: str) -> list[Any]:
    decoder = json.JSONDecoder()
    values, at = [], 0
    text = out.strip()
    while at < len(text):
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return values  # text, not JSON: nothing to compare
        values.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return values

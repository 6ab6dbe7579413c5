"""The fenced examples of README.md and docs/*.md, as tests/test_doc_examples.py runs them:
each block with where it is, the reason it is not run (an HTML comment on the line before it,
`<!-- not run: needs docker -->`), and, for a GraphQL block, the answer a ```json block right
after it shows. No I/O but reading the files."""

import base64
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(\S.*?)\s*-->\s*$")
ROSTERS_COMMANDS = {"roster", "curl"}
COMMAND_BREAKS = {";", "&&", "||", "|", "&", "("}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# A placeholder: the start of a global id (or of a token id), then "…" ("VXNlcjo…").
PLACEHOLDER = re.compile(r"\b([A-Za-z0-9+]{4,}=*)…")
# The types whose global ids the documents use, by the start of their base64.
ID_TYPES = ("User", "Platform", "ImportJob", "ExportJob", "EmailJob", "WebhookDelivery")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    not_run: str | None = None  # the reason given, for a block marked not run
    answer: str | None = None  # the JSON shown right after a GraphQL block

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def commands(self) -> set[str]:
        """The programs a shell block runs: the first word of each command."""
        found = set()
        for line in self.text.replace("\\\n", " ").splitlines():
            try:
                tokens = list(shlex.shlex(line, posix=True, punctuation_chars=";&|()"))
            except ValueError:
                return {"(a line the test cannot read)"}
            starts = True
            for token in tokens:
                if token in COMMAND_BREAKS:
                    starts = True
                elif starts and not ASSIGNMENT.match(token):
                    found.add(token)
                    starts = False
        return found

    def calls_roster(self) -> bool:
        """Whether this shell block runs `roster` or curl (whose examples all reach Roster's
        routes): such a block must run, or say why not."""
        return bool(self.commands() & ROSTERS_COMMANDS)

    def other_commands(self) -> set[str]:
        """The programs this shell block runs besides those: the test runs none (`createdb
        roster` would make a database on the test's server)."""
        return self.commands() - ROSTERS_COMMANDS


def blocks(path: Path) -> Iterator[Block]:
    """Every fenced block of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if opening is None:
            number += 1
            continue
        indent, lang = len(opening.group(1)), opening.group(2)
        end = number + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = "\n".join(line[indent:] for line in lines[number + 1 : end])
        found.append(Block(path, number + 1, lang, body + "\n", _not_run(lines, number)))
        number = end + 1
    for index, block in enumerate(found):
        after = found[index + 1] if index + 1 < len(found) else None
        yield _with_answer(block, after, lines)


def _not_run(lines: list[str], fence: int) -> str | None:
    before = fence - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    marked = NOT_RUN.match(lines[before]) if before >= 0 else None
    return marked.group(1) if marked else None


def _with_answer(block: Block, after: Block | None, lines: list[str]) -> Block:
    """The block, with the JSON block that follows it when only blank lines come between."""
    if block.lang != "graphql" or after is None or after.lang != "json":
        return block
    closing = block.line + block.text.count("\n")  # 0-based index of the closing fence
    if any(line.strip() for line in lines[closing + 1 : after.line - 1]):
        return block
    return Block(block.path, block.line, block.lang, block.text, block.not_run, after.text)


def all_blocks() -> list[Block]:
    return [block for document in DOCUMENTS for block in blocks(document)]


def id_type(prefix: str) -> str | None:
    """The type whose global ids start with `prefix` (the part of a placeholder before "…").
    Only the characters that "Type:" alone decides are compared: the last one of a prefix may
    hold bits of the id that follows."""
    for type_name in ID_TYPES:
        head = f"{type_name}:".encode()
        decided = base64.b64encode(head).decode()[: len(head) * 8 // 6]
        covered = len(type_name.encode()) * 8 // 6
        if len(prefix) >= covered and prefix[: len(decided)] == decided[: len(prefix)]:
            return type_name
    return None


def mismatches(shown: Any, actual: Any, path: str = "") -> list[str]:
    """How an answer differs from what a document shows: objects need the keys shown (others
    may be there too), lists the same length, a string ending in "…" only its start."""
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{path or 'the answer'}: {actual!r} is not an object"]
        found = []
        for key, value in shown.items():
            if key not in actual:
                found.append(f"{path}.{key}: missing")
            else:
                found += mismatches(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(shown, list):
        if not isinstance(actual, list) or len(actual) != len(shown):
            return [f"{path}: {actual!r} is not a list of {len(shown)}"]
        return [
            p
            for i, (s, a) in enumerate(zip(shown, actual, strict=True))
            for p in mismatches(s, a, f"{path}[{i}]")
        ]
    if isinstance(shown, str) and shown.endswith("…"):
        if isinstance(actual, str) and actual.startswith(shown[:-1]):
            return []
        # A global id's placeholder stands for any id of its type.
        kind = id_type(shown[:-1])
        if (
            kind is not None
            and isinstance(actual, str)
            and id_type(actual[: len(shown) - 1]) == kind
        ):
            return []
        return [f"{path}: {actual!r} does not start with {shown[:-1]!r}"]
    return [] if shown == actual else [f"{path}: {actual!r}, the document shows {shown!r}"]


def shown_outputs(script: str) -> list[Any]:
    """The outputs a shell block shows, as comment lines holding JSON (`# {"id": …}`)."""
    found = []
    for line in script.splitlines():
        text = line.strip()
        if text.startswith("# {") or text.startswith("# ["):
            found.append(json.loads(text[2:]))
    return found

"""Every code Roster answers with is in the documents (issue #27, item 6): a userError's, a
GraphQL error's `extensions.code`, an HTTP error's, a row error's, an event's reason. Read off
the code: every string constant that looks like a code (`EXTERNAL_ID_TAKEN`) must appear in
README.md or docs/, or be named below as something else."""

import re

from tests.doc_blocks import DOCUMENTS, ROOT

# Where codes are made. schema/ is left out: its enums are printed in schema.graphql.
SOURCES = [
    p for d in ("roster", "resolvers", "jobs", "rules", "db") for p in (ROOT / d).rglob("*.py")
]
CODE = re.compile(r"[\"']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"']")
NOT_CODES = {
    # The built-in platforms' kinds (values of an enum of the schema).
    "LEARNING_CLOUD": "db/tenants.py",
    "CONTENT_CLOUD": "db/tenants.py",
    # Names of other libraries' constants and of a Redis key.
    "FIRST_COMPLETED": "asyncio.wait",
    "IN_PROGRESS": "arq",
    "HEARTBEAT_KEY": "jobs/queue.py",
    # Fallbacks for errors Roster does not make itself: an HTTP status without a code of its
    # own, a filter refused without one.
    "HTTP_ERROR": "roster/httperrors.py",
    "PAYLOAD_TOO_LARGE": "roster/httperrors.py",
    "INVALID_FILTER": "resolvers/exports.py",
    # The set-password page's message for a form it cannot read: a page, not an API's code.
    "FORM_INVALID": "roster/set_password_page.py",
}


def test_every_code_is_documented() -> None:
    documents = "\n".join(p.read_text(encoding="utf-8") for p in DOCUMENTS)
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    missing = {
        code: sorted(paths)
        for code, paths in found.items()
        if code not in NOT_CODES and f"`{code}`" not in documents
    }
    assert not missing, f"codes no document names (in backquotes): {missing}"


def test_the_exceptions_are_still_there() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    stale = [code for code in NOT_CODES if code not in source]
    assert not stale, f"no longer in the code, drop them from NOT_CODES: {stale}"

"""A refused document carries an `extensions.code`, as docs/api.md says, whichever limit refused
it: the depth, the aliases, the tokens, or its syntax."""

import pytest

from tests.conftest import Api
from tests.test_security import nested

ALIASES = "{ " + " ".join(f"a{i}: platforms {{ key }}" for i in range(31)) + " }"
TOKENS = "{ " + " ".join(f"a{i}: __typename" for i in range(700)) + " }"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (ALIASES, "TOO_MANY_ALIASES"),
        (TOKENS, "TOO_MANY_TOKENS"),
        ("{ platforms { key }", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["aliases", "tokens", "syntax"],
)
async def test_a_refused_document_says_why_in_its_code(
    reader: Api, document: str, code: str
) -> None:
    body = await reader(document)
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body["errors"]


async def test_a_document_too_deep_says_so_in_its_code(reader: Api) -> None:
    body = await reader(nested(12))
    deep = [e for e in body["errors"] if "maximum operation depth" in e["message"]]
    assert [e["extensions"]["code"] for e in deep] == ["QUERY_TOO_DEEP"], body["errors"]

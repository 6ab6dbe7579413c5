from pathlib import Path

from roster.graphql_schema import build_schema
from roster.settings import Settings

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_schema_graphql_is_the_printed_schema() -> None:
    printed = build_schema(Settings()).as_str() + "\n"
    assert SCHEMA_FILE.read_text() == printed, (
        "schema.graphql is stale: run `roster schema > schema.graphql`"
    )

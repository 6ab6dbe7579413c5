"""The server log of GraphQL errors.

Errors the caller made (syntax, validation, permissions, BadRequest) reach the caller in the
response and are not logged. Unexpected ones are, with their traceback, and with the values of
secret arguments (passwords, tokens, secrets, hashes) cut out, whether written in the document or
sent as variables. Nothing logged comes from graphql-core's str(error), which quotes the
document's source line, and with it whatever password was written there."""

import json
import logging
import re
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)

from resolvers.errors import should_mask_error

log = logging.getLogger("roster.graphql")

# Argument, input field and variable names whose values are secrets: password, passwordHash,
# token, webhookSecret, credentials, apiKey…
SENSITIVE_NAME = re.compile(r"pass(word|wd)|token|secret|hash|credential|api_?key", re.IGNORECASE)
REDACTED = "[redacted]"


def log_unexpected_errors(
    errors: list[GraphQLError],
    document: DocumentNode | None,
    variables: Mapping[str, Any] | None,
) -> None:
    unexpected = [error for error in errors if should_mask_error(error)]
    if not unexpected:
        return
    secrets = secret_values(document, variables or {})
    for error in unexpected:
        where = ".".join(str(key) for key in error.path or ()) or "the operation"
        trace = "".join(traceback.format_exception(error.original_error))
        log.error("GraphQL error at %s\n%s", where, redact(trace.rstrip(), secrets))


def secret_values(document: DocumentNode | None, variables: Mapping[str, Any]) -> set[str]:
    """The strings given to secret arguments or input fields of the document: inline, through a
    variable, or inside an input object sent as a variable."""
    found = set(_strings_under_secret_names(variables))
    if document is not None:
        collector = _SecretArguments(variables)
        visit(document, collector)
        found |= collector.found
    return {value for value in found if value}


def redact(text: str, secrets: set[str]) -> str:
    # Longest first, so that a secret containing another is cut out whole. An exception message
    # may quote a value as Python or JSON would, escapes included.
    for secret in sorted(secrets, key=len, reverse=True):
        for form in {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}:
            text = text.replace(form, REDACTED)
    return text


class _SecretArguments(Visitor):
    def __init__(self, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.variables = variables
        self.found: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        if SENSITIVE_NAME.search(node.name.value):
            self.found.update(self._strings(node.value))

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        if SENSITIVE_NAME.search(node.name.value):
            self.found.update(self._strings(node.value))

    def _strings(self, node: ValueNode) -> Iterator[str]:
        if isinstance(node, StringValueNode):
            yield node.value
        elif isinstance(node, VariableNode):
            yield from _strings(self.variables.get(node.name.value))
        elif isinstance(node, ListValueNode):
            for item in node.values:
                yield from self._strings(item)
        elif isinstance(node, ObjectValueNode):
            for field in node.fields:
                yield from self._strings(field.value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _strings_under_secret_names(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and SENSITIVE_NAME.search(key):
                yield from _strings(item)
            else:
                yield from _strings_under_secret_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_under_secret_names(item)


class WithoutQueryString(logging.Filter):
    """For uvicorn's access log: paths without their query string, which may hold a GraphQL
    document sent by GET with a password written in it, or a set-password or download link's
    token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access records: (client, method, path with query, HTTP version, status).
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query:
                record.args = (args[0], args[1], path + "?…", args[3], args[4])
        return True


def keep_query_strings_out_of_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQueryString) for f in access.filters):
        access.addFilter(WithoutQueryString())

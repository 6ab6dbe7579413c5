"""Subscriptions of prepared documents over graphql-transport-ws: each event's answer worked out
once for all the subscribers that get it, and sent without Strawberry's machinery per result.

A thousand consoles following one import each get every state of the job, ten a second. Stock
Strawberry runs each state through each subscription alone: graphql-core's per-event executor
(a copy of the subscription's), the selection completed, then its stream's layers of async
generators and extension hooks (MaskErrors' isinstance against a runtime Protocol alone cost
a tenth of it), then the message encoded: about a millisecond a subscriber on this machine, so
a state reached the last of a thousand seconds after it was published.

Here a subscription of a document validated before (prepared.py), by a caller with a token:

- runs graphql-core's own subscribe, with its own per-event executors, so the source stream,
  its arguments, variables, events and errors are graphql-core's as they always are;
- an event's result is shared by the subscriptions of the same operation and variables that
  get the same event object (resolvers/jobs.py hands every subscriber of a job the same Job
  for a state) when it has no errors and nothing below the root field ran a resolver: it was
  then completed by plans alone (attribute reads and serialisers) and depends on nothing of
  the subscriber's;
- a result without errors is sent as text encoded once, with the subscription's id around it;
  one with errors is logged, masked and sent as Strawberry's stream does (its extensions'
  hooks for stream results are MaskErrors' alone; IntrospectionForAdmins strips suggestions
  only after the stream has ended, from a result already sent), an error raised by the
  source stream the same way, and then the stream ends;
- errors before the stream starts (variables, arguments) go out as an `error` message, as
  Strawberry's handler sends them.

Anything else (a document seen for the first time, a query or mutation over the socket, a
caller without a token) takes Strawberry's way."""

from collections import OrderedDict
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, cast

import orjson
from graphql import ExecutionResult as GraphQLResult
from graphql import GraphQLError, subscribe
from graphql.pyutils import Path
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from roster.execution.plain_execution import PlainDataExecutionContext
from roster.execution.prepared import Prepared
from roster.execution.websocket import Encoded

if TYPE_CHECKING:
    from roster.execution.engine import Engine

# Event results lately shared, and the text of lately sent ones: by the ids of the objects
# they belong to, each held with them so that its id stays its own.
_SHARED_MAX = 256
_shared: OrderedDict[tuple[int, int, bytes], tuple[Any, Any, GraphQLResult]] = OrderedDict()
_encoded: OrderedDict[int, tuple[GraphQLResult, bytes | None]] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > _SHARED_MAX:
        cache.popitem(last=False)


class _Answered:
    """A per-event executor whose result is known: another subscription's, for the same
    event, operation and variables."""

    __slots__ = ("result",)

    def __init__(self, result: GraphQLResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> GraphQLResult:
        return self.result


class SubscriptionExecutor(PlainDataExecutionContext):
    """The engine's executor, whose per-event executors share their results (see the module's
    docstring): a result is kept when nothing below the root field ran (execute_field) and it
    has no errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.share_as: tuple[int, int, bytes] | None = None
        self.below_root = False
        # The variables as the key of what the subscription's events share; None: not shared.
        try:
            self.variables_key: bytes | None = orjson.dumps(
                self.variable_values.coerced, option=orjson.OPT_SORT_KEYS
            )
        except TypeError:
            self.variables_key = None

    def build_per_event_executor(self, payload: Any) -> Any:
        key = None
        if self.variables_key is not None:
            key = (id(payload), id(self.operation), self.variables_key)
            found = _shared.get(key)
            if found is not None and found[0] is payload and found[1] is self.operation:
                return _Answered(found[2])
        executor = cast("SubscriptionExecutor", super().build_per_event_executor(payload))
        executor.share_as = key
        executor.below_root = False
        return executor

    def execute_field(
        self,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if path.prev is not None:
            self.below_root = True  # a resolver of the subscriber's may run
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        key = self.share_as
        if (
            key is not None
            and isinstance(result, GraphQLResult)
            and not result.errors
            and not self.below_root
        ):
            _remember(_shared, key, (self.root_value, self.operation, result))
        return result


def prepared_subscription(
    engine: "Engine", query: object, operation_name: str | None
) -> Prepared | None:
    """The prepared document of a subscription operation, or None for Strawberry's way."""
    if engine.prepared is None or not isinstance(query, str):
        return None
    prepared = engine.prepared.get(query)
    if prepared is None or prepared.operation_type(operation_name) != OperationType.SUBSCRIPTION:
        return None
    return prepared


async def run_subscription(
    engine: "Engine", handler: Any, operation: Any, prepared: Prepared
) -> None:
    """As Strawberry's run_operation with its stream: the operation's results sent, then
    `complete`."""
    try:
        await _send_results(engine, handler, operation, prepared)
        await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
    except Exception as error:
        await handler.handle_task_exception(error)
        with suppress(Exception):
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        handler.operations.pop(operation.id, None)
        raise


async def _send_results(engine: "Engine", handler: Any, operation: Any, prepared: Prepared) -> None:
    schema = handler.schema
    found = subscribe(
        schema._schema,
        prepared.document,
        root_value=handler.root_value,
        context_value=handler.context,
        variable_values=operation.variables,
        operation_name=operation.operation_name,
        executor_class=SubscriptionExecutor,
    )
    if isawaitable(found):
        found = await found
    if isinstance(found, GraphQLResult):
        # Before the stream: an `error` message (Strawberry's PreExecutionError).
        errors = engine.stream_errors(
            schema, found.errors or [], operation, handler.context, prepared
        )
        await operation.send_initial_errors(errors)
        return
    async with aclosing(cast("AsyncGenerator[GraphQLResult, None]", found)) as stream:
        while True:
            try:
                result = await anext(stream)
            except StopAsyncIteration:
                return
            except Exception as error:  # as Strawberry's stream: the error, then the end
                stray = (
                    error
                    if isinstance(error, GraphQLError)
                    else GraphQLError(str(error), original_error=error)
                )
                await _send(engine, handler, operation, prepared, GraphQLResult(None, [stray]))
                return
            await _send(engine, handler, operation, prepared, result)


async def _send(
    engine: "Engine", handler: Any, operation: Any, prepared: Prepared, result: GraphQLResult
) -> None:
    """A `next` message with the result, as Operation.send_next would send it."""
    if result.errors:
        errors = engine.stream_errors(
            handler.schema, result.errors, operation, handler.context, prepared
        )
        await operation.send_next(ExecutionResult(data=result.data, errors=errors, extensions={}))
        return
    payload = _payload(result)
    if payload is None:  # not for orjson (an integer past 64 bits): the view's own encoding
        await operation.send_next(ExecutionResult(data=result.data, errors=None, extensions={}))
        return
    if operation.completed:
        return
    message = b'{"id":%s,"type":"next","payload":%s}' % (orjson.dumps(operation.id), payload)
    await handler.send_message(Encoded(message.decode()))


def _payload(result: GraphQLResult) -> bytes | None:
    """The result's `{"data": …}` as JSON, encoded once for all who send it."""
    found = _encoded.get(id(result))
    if found is not None and found[0] is result:
        return found[1]
    try:
        payload: bytes | None = orjson.dumps({"data": result.data})
    except TypeError:
        payload = None
    _remember(_encoded, id(result), (result, payload))
    return payload

"""The execution engine: every part of Roster that reaches into Strawberry's or graphql-core's
internals, so that an upgrade of either can break this package and nothing else.

- engine.py: the interface, one Engine per schema (`RosterSchema.engine`), which
  roster/graphql_schema.py and roster/graphql_view.py call and nothing else of Roster's imports;
- plain_execution.py, plans.py: objects of plain data completed by plans compiled to
  straight-line code, an operation's root fields collected once;
- prepared.py: documents validated once run without Strawberry's extension hooks afterwards
  (ROSTER_PREPARED_DOCUMENTS);
- compiled.py, inputs.py: a prepared document's queries compiled once (root fields, their
  resolvers, arguments and plans; variables coerced without graphql-core where they are
  plain scalars), graphql-core's executor made only for what they leave to it;
- arguments.py: resolvers' arguments handed over without Strawberry's per-call conversion;
- info.py: Strawberry's Info naming the field's nodes, for resolvers/selection.py;
- subscriptions.py: subscriptions of prepared documents, each event's answer shared by the
  subscribers that get it and sent without Strawberry's per-result machinery;
- websocket.py: graphql-transport-ws with Roster's tokens, on Strawberry's handler.

The kill switch: with ROSTER_PLAIN_EXECUTION=off, build_schema imports none of engine.py,
plain_execution.py, plans.py, prepared.py, compiled.py, inputs.py, subscriptions.py,
arguments.py or info.py, and Roster runs on stock
Strawberry with the same answers at more CPU. websocket.py is loaded in both modes: tokens are
checked on sockets whatever the engine does. This file imports nothing but the standard library.

The private names used, checked against strawberry-graphql 0.341.2 and graphql-core 3.3.2
(private: named with an underscore, in a module upstream calls internal, or documented upstream
as not public, as graphql-core's Executor says of its execution methods). PRIVATE_NAMES holds
them as data: tests/test_private_names.py checks that they are all there with the locked
versions and that nothing outside this package uses a private name of either library;
scripts/upgrade-check checks them against the newest releases.

graphql-core
- graphql.execution.Executor, subclassed by plain_execution.py and built by prepared.py:
  `__init__` given ten positional arguments (schema … subscribe_field_resolver) and
  is_awaitable; `execute_operation`, `execute_collected_root_fields`, `build_response`,
  `cancel_incremental_work`, `run_async_work_finished_hook` (root fields collected once);
  `complete_object_value` (overridden: plans), `execute_field`, `collect_subfields`,
  `complete_value` and `handle_field_error` (compiled.py: what it leaves to the executor),
  `build_per_event_executor` (subscriptions.py: events' answers shared),
  `settle_in_background`; `gather_async_work`, `track_async_work` and `async_helpers` (helpers
  holding their executor weakly); `build_resolve_info` (Strawberry's used instead); the
  attributes `collected_errors`, `middleware_manager`, `abort_signal`, `hide_suggestions`,
  `is_awaitable`.
- graphql.execution.collect_fields: `collect_fields`, `CollectedFields` (unpacked as a
  3-tuple), `GroupedFieldSet`, `FragmentDetails`.
- graphql: `GraphQLResolveInfoHelpers`; graphql.pyutils: `gather_with_cancel`.
- graphql.execution.get_variable_signature: `get_variable_signature`, and
  graphql.execution.values: `VariableValueSource` (inputs.py: variables as graphql-core
  coerces them; neither is exported by the package).

Strawberry
- strawberry.schema.schema: `Schema._schema` (arguments.py, engine.py);
  `StrawberryGraphQLCoreExecutionContext.build_resolve_info` (plain_execution.py: the Info
  Strawberry's resolvers expect). strawberry.schema.base: `BaseSchema._process_errors`
  (engine.py: errors logged as Strawberry's execute logs them).
- strawberry.types.info: `Info` built as `Info(_raw_info=…, _field=…)` (arguments.py) and
  `Info._raw_info` read (info.py).
- strawberry.types.field: `StrawberryField.get_result`, `is_async`, `is_basic_field`,
  `default_resolver`; strawberry.types.fields.resolver: `StrawberryResolver.self_parameter`,
  `parent_parameter`, `root_parameter`, `info_parameter`, `wrapped_func` (what get_result
  calls); strawberry.types.arguments:
  `StrawberryArgument.is_maybe`; strawberry.types.base: `StrawberryMaybe`, `StrawberryOptional`
  (arguments.py: which resolvers are called directly, and how).
- strawberry.resolvers: `is_default_resolver` (plain_execution.py: a plain field).
- strawberry.schema.types.base_scalars: `isoformat`, the serialiser of DateTime, Date and
  Time (plans.py calls the value's isoformat() itself).
- strawberry.execution: `optimized_is_awaitable` (engine.py).
- strawberry.extensions: `MaskErrors.anonymise_error`, `MaskErrors.should_mask_error`
  (engine.py: errors masked as MaskErrors would).
- strawberry.http.async_base_view: `AsyncBaseHTTPView._handle_errors`; strawberry.http.base:
  `BaseView._get_stream_transport_from_headers` (engine.py: the view's prepared answer).
- strawberry.subscriptions.protocols.graphql_transport_ws.handlers, an internal module:
  `BaseGraphQLTransportWSHandler`, its `handle_connection_init`, `handle_subscribe`, `shutdown`,
  `cleanup_operation`, `operations`, `connection_acknowledged`, `websocket` (websocket.py),
  `run_operation` (overridden: prepared subscriptions), `send_message`,
  `handle_task_exception`, `context`, `root_value`, `schema`; its `Operation`, with `id`,
  `query`, `variables`, `operation_name`, `completed`, `send_operation_message`, `send_next`,
  `send_initial_errors` (subscriptions.py: what Strawberry's run_operation does with them)."""

import importlib
import inspect
from typing import Any, NamedTuple


class PrivateName(NamedTuple):
    """A name of a library's the engine relies on: its module, and its dotted path in it."""

    module: str
    name: str
    # For a callable or a NamedTuple: the names its first parameters must have, in order
    # (passed by position), and parameters it must take by keyword.
    parameters: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


_EXECUTOR = "graphql.execution"
_COLLECT = "graphql.execution.collect_fields"
_WS = "strawberry.subscriptions.protocols.graphql_transport_ws.handlers"
_INIT = (
    "schema",
    "fragment_definitions",
    "fragments",
    "root_value",
    "context_value",
    "operation",
    "variable_values",
    "field_resolver",
    "type_resolver",
    "subscribe_field_resolver",
)
_COMPLETE = ("return_type", "field_details_list", "info", "path", "result", "position_context")

PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName(_EXECUTOR, "Executor.__init__", _INIT, ("is_awaitable",)),
    PrivateName(_EXECUTOR, "Executor.execute_operation", ("serially",)),
    PrivateName(
        _EXECUTOR,
        "Executor.execute_collected_root_fields",
        ("root_type", "root_value", "grouped_field_set", "serially", "new_defer_usages"),
    ),
    PrivateName(_EXECUTOR, "Executor.build_response", ("data",)),
    PrivateName(_EXECUTOR, "Executor.cancel_incremental_work"),
    PrivateName(_EXECUTOR, "Executor.run_async_work_finished_hook"),
    PrivateName(_EXECUTOR, "Executor.complete_object_value", _COMPLETE),
    PrivateName(
        _EXECUTOR,
        "Executor.execute_field",
        ("parent_type", "source", "field_details_list", "path", "position_context"),
    ),
    PrivateName(_EXECUTOR, "Executor.collect_subfields", ("return_type", "field_details_list")),
    PrivateName(_EXECUTOR, "Executor.complete_value", _COMPLETE),
    PrivateName(_EXECUTOR, "Executor.build_per_event_executor", ("payload",)),
    PrivateName(
        _EXECUTOR,
        "Executor.handle_field_error",
        ("raw_error", "return_type", "field_details_list", "path"),
    ),
    PrivateName(_EXECUTOR, "Executor.settle_in_background", ("awaitables",)),
    PrivateName(_EXECUTOR, "Executor.gather_async_work", ("values",)),
    PrivateName(_EXECUTOR, "Executor.track_async_work", ("values",)),
    PrivateName(
        _EXECUTOR,
        "Executor.build_resolve_info",
        ("field_def", "field_nodes", "parent_type", "path"),
    ),
    PrivateName(_EXECUTOR, "Executor.async_helpers"),
    PrivateName(_EXECUTOR, "Executor.collected_errors"),
    PrivateName(_EXECUTOR, "Executor.middleware_manager"),
    PrivateName(_EXECUTOR, "Executor.abort_signal"),
    PrivateName(_EXECUTOR, "Executor.hide_suggestions"),
    PrivateName(_EXECUTOR, "Executor.is_awaitable"),
    PrivateName(
        _COLLECT,
        "collect_fields",
        ("schema", "fragments", "variable_values", "runtime_type", "operation", "hide_suggestions"),
    ),
    PrivateName(
        _COLLECT,
        "CollectedFields",
        ("grouped_field_set", "new_defer_usages", "forbidden_directive_instances"),
    ),
    PrivateName(_COLLECT, "GroupedFieldSet"),
    PrivateName(_COLLECT, "FragmentDetails", ("definition",)),
    PrivateName("graphql", "GraphQLResolveInfoHelpers", (), ("gather", "track")),
    PrivateName("graphql.pyutils", "gather_with_cancel"),
    PrivateName(
        "graphql.execution.get_variable_signature",
        "get_variable_signature",
        ("schema", "var_def_node"),
    ),
    PrivateName("graphql.execution.values", "VariableValueSource", ("signature", "value")),
    PrivateName("strawberry.schema.schema", "Schema._schema"),
    PrivateName(
        "strawberry.schema.schema",
        "StrawberryGraphQLCoreExecutionContext.build_resolve_info",
        ("field_def", "field_nodes", "parent_type", "path"),
    ),
    PrivateName(
        "strawberry.schema.base", "BaseSchema._process_errors", ("errors", "execution_context")
    ),
    PrivateName("strawberry.types.info", "Info", (), ("_raw_info", "_field")),
    PrivateName("strawberry.types.info", "Info._raw_info"),
    PrivateName(
        "strawberry.types.field", "StrawberryField.get_result", ("source", "info", "args", "kwargs")
    ),
    PrivateName("strawberry.types.field", "StrawberryField.is_async"),
    PrivateName("strawberry.types.field", "StrawberryField.is_basic_field"),
    PrivateName("strawberry.types.field", "StrawberryField.default_resolver"),
    PrivateName("strawberry.types.fields.resolver", "StrawberryResolver.self_parameter"),
    PrivateName("strawberry.types.fields.resolver", "StrawberryResolver.parent_parameter"),
    PrivateName("strawberry.types.fields.resolver", "StrawberryResolver.root_parameter"),
    PrivateName("strawberry.types.fields.resolver", "StrawberryResolver.info_parameter"),
    PrivateName("strawberry.types.fields.resolver", "StrawberryResolver.wrapped_func"),
    PrivateName("strawberry.types.arguments", "StrawberryArgument.is_maybe"),
    PrivateName("strawberry.types.base", "StrawberryMaybe"),
    PrivateName("strawberry.types.base", "StrawberryOptional"),
    PrivateName("strawberry.resolvers", "is_default_resolver"),
    PrivateName("strawberry.schema.types.base_scalars", "isoformat"),
    PrivateName("strawberry.execution", "optimized_is_awaitable"),
    PrivateName("strawberry.extensions", "MaskErrors.anonymise_error", ("error",)),
    PrivateName("strawberry.extensions", "MaskErrors.should_mask_error"),
    PrivateName(
        "strawberry.http.async_base_view",
        "AsyncBaseHTTPView._handle_errors",
        ("errors", "response_data"),
    ),
    PrivateName(
        "strawberry.http.base", "BaseView._get_stream_transport_from_headers", ("headers",)
    ),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.handle_connection_init", ("message",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.handle_subscribe", ("message",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.shutdown"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.cleanup_operation", ("operation_id",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.operations"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.connection_acknowledged"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.websocket"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.run_operation", ("operation",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.send_message", ("message",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.handle_task_exception", ("error",)),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.context"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.root_value"),
    PrivateName(_WS, "BaseGraphQLTransportWSHandler.schema"),
    PrivateName(_WS, "Operation", ("handler", "id", "query", "variables", "operation_name")),
    PrivateName(_WS, "Operation.completed"),
    PrivateName(_WS, "Operation.send_operation_message", ("message",)),
    PrivateName(_WS, "Operation.send_next", ("execution_result",)),
    PrivateName(_WS, "Operation.send_initial_errors", ("errors",)),
)


def moved(names: tuple[PrivateName, ...] = PRIVATE_NAMES) -> list[str]:
    """What is no longer where the engine expects it, one line per name (none: all there)."""
    found = []
    for entry in names:
        problem = _problem(entry)
        if problem is not None:
            found.append(f"{entry.module}: {entry.name}: {problem}")
    return found


def _problem(entry: PrivateName) -> str | None:
    try:
        target: Any = importlib.import_module(entry.module)
    except ImportError as e:
        return f"module not found ({e})"
    for part in entry.name.split("."):
        if hasattr(target, part):
            target = getattr(target, part)
        elif isinstance(target, type) and _instance_attribute(target, part):
            return None  # set on instances: nothing more to check
        else:
            return "not found"
    if not entry.parameters and not entry.keywords:
        return None
    try:
        parameters = [p for p in inspect.signature(target).parameters if p != "self"]
    except (TypeError, ValueError):
        return "no signature"
    given = tuple(parameters[: len(entry.parameters)])
    if given != entry.parameters:
        return f"parameters {given}, where the engine passes {entry.parameters}"
    missing = [k for k in entry.keywords if k not in parameters]
    return f"no parameter {', '.join(missing)}" if missing else None


def _instance_attribute(cls: type, name: str) -> bool:
    """Whether instances of `cls` have the attribute: declared, or set in a method."""
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if f"self.{name} =" in source or f"self.{name}:" in source:
            return True
    return False

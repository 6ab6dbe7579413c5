"""/graphql: Strawberry's ASGI view with Roster's authentication and the GraphQL over HTTP media
type."""

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from resolvers.loaders import make_loaders
from roster.auth import authenticate, credentials
from roster.body_limit import LimitedReceive, Refused, declared_length
from roster.execution.websocket import Encoded, TransportWSHandler, ws_authorization
from roster.graphql_schema import RosterSchema
from roster.httperrors import UNAUTHORIZED, error_response
from roster.settings import Settings
from rules.echoes import cut_message
from schema.context import Context, NotAuthenticated

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# GraphiQL's page and the scripts it loads, served by Roster: the page works offline.
GRAPHIQL_ASSETS = Path(__file__).parent / "static" / "graphiql"


def _app_state(request: Request | WebSocket) -> dict[str, Any]:
    # The lifespan's state as the dict it is. request.state wraps it in an object read by
    # __getattr__, reached only after Python's own look-up has failed and made its
    # AttributeError (message formatted): 1.1 µs a read, a dozen reads a request, 8% of a lone
    # user's instructions.
    state: dict[str, Any] = request.scope["state"]
    return state


def new_context(request: Request | WebSocket, response: Any) -> Context:
    """A context with the app's clients and no caller yet."""
    state = _app_state(request)
    settings = state["settings"]
    return Context(
        request=request,
        response=response,
        pool=state["pool"],
        redis=state["redis"],
        executor=state["executor"],
        public_url=settings.public_url,
        max_upload_bytes=settings.max_upload_bytes,
        count_bound=settings.count_bound,
        relay=state["relay"],
        cursor_key=state["cursor_key"],
        export_link=state["export_link"],
        export_ttl=settings.export_ttl,
        webhook_addresses=state["webhook_addresses"],
    )


# Where a request's headers are kept once read (an ASGI scope may hold keys of its own).
_HEADERS = "roster.headers"


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, by its name in lower case (as ASGI gives names), as
    Starlette's Headers would give it, without making them or the KeyError their `get` raises
    and catches for a header that is absent (4 µs, for the Accept most benchmarks leave out).
    The headers are read into a dict once per request: the view asks for four, some twice."""
    headers: dict[bytes, str] | None = scope.get(_HEADERS)
    if headers is None:
        headers = {}
        for key, value in scope["headers"]:
            if key not in headers:
                headers[key] = value.decode("latin-1")
        scope[_HEADERS] = headers
    return headers.get(name)


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in (_header(request.scope, b"accept") or "")


def _media_type(scope: Scope) -> str:
    # The media type alone, as parse_content_type reads it, without its e-mail parser (which
    # costs more than the rest of this check on every request).
    return (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()


def _is_multipart(scope: Scope) -> bool:
    return _media_type(scope) == "multipart/form-data"


# Where a request's sub-response is kept (an ASGI scope may hold keys of its own).
_SUB_RESPONSE = "roster.sub_response"


def _sub_response(request: Request | WebSocket) -> Response:
    """The response resolvers may set a status, headers or a background task on, made once
    per request (by run, for the context it makes before Strawberry's run asks again): as
    Strawberry's, a Response with no status and no headers, made without deleting its
    content-length header (a fifth of its cost)."""
    sub_response: Response | None = request.scope.get(_SUB_RESPONSE)
    if sub_response is None:
        # What Response() holds once its status and headers are emptied, without making the
        # headers first.
        sub_response = Response.__new__(Response)
        sub_response.status_code = None  # type: ignore[assignment]
        sub_response.background = None
        sub_response.body = b""
        sub_response.raw_headers = []
        request.scope[_SUB_RESPONSE] = sub_response
    return sub_response


# graphql-core's parser: its errors, the token limit's among them, carry no code of their own.
SYNTAX = "Syntax Error: "
TOO_MANY_TOKENS = "tokens. Parsing aborted."


def _response(body: bytes, status_code: int, media_type: str) -> Response:
    """Response(body, status_code, media_type) for an answer of JSON, made as its __init__
    makes it without its checks for other kinds of content and statuses."""
    if status_code < 200 or status_code in (204, 304) or media_type.startswith("text/"):
        return Response(body, status_code=status_code, media_type=media_type)
    response = Response.__new__(Response)
    response.status_code = status_code
    response.media_type = media_type
    response.background = None
    response.body = body
    response.raw_headers = [
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", media_type.encode("latin-1")),
    ]
    return response


async def _body(request: Request) -> bytes:
    """The request's body, read as Starlette's body() reads it but without the generator and
    the context manager it reads through, and kept where body() finds it (for Strawberry's
    run, when the request turns out not to be one of a prepared document)."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    request._body = body
    return body


def _data_only(request: Request, data: Any) -> GraphQLHTTPResponse:
    """What process_result makes of a result with neither errors nor extensions."""
    if _accepts_graphql_response(request):
        _sub_response(request).media_type = GRAPHQL_RESPONSE_JSON
    return {"data": data}


def _syntax_code(error: dict[str, Any]) -> str:
    return "TOO_MANY_TOKENS" if TOO_MANY_TOKENS in error["message"] else "GRAPHQL_PARSE_FAILED"


def _json_bytes(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError: integers past 64 bits in a JSON scalar
        return json.dumps(data, separators=(",", ":")).encode()


class RosterGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    schema: RosterSchema

    def __init__(self, schema: RosterSchema, settings: Settings) -> None:
        self.max_body_bytes = settings.max_body_bytes
        # A multipart request holds the GraphQL document besides the file.
        self.max_multipart_bytes = settings.max_upload_bytes + settings.max_body_bytes
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Not a CSRF door: every request needs an Authorization header, which no browser
            # sends cross-site without a CORS preflight, and Roster answers no preflight.
            multipart_uploads_enabled=True,
        )
        self._graphiql_html = (GRAPHIQL_ASSETS / "index.html").read_text(encoding="utf-8")

    @property
    def graphql_ide_html(self) -> str:
        return self._graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        limit = self.max_multipart_bytes if _is_multipart(scope) else self.max_body_bytes
        length = declared_length(_header(scope, b"content-length"))
        try:
            await super().__call__(scope, LimitedReceive(receive, limit, length), send)
        except Refused as e:
            # Raised before the body is read or while it is, so before anything is answered.
            await error_response(e.status_code, str(e), e.code)(scope, receive, send)

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            if context is UNSET and root_value is UNSET and self._may_be_prepared(request):
                # Authenticated first, as Strawberry's run does, and for its run too when the
                # request is not one of a prepared document.
                assert isinstance(request, Request)
                context = await self.get_context(request, _sub_response(request))
                answer = await self.answer_prepared(request, context)
                if answer is not None:
                    return answer
            return await super().run(request, context, root_value)
        except HTTPException as e:
            # Refused before GraphQL ran (no token, a method or body it does not take): the
            # answer every other endpoint gives, not Strawberry's plain text.
            if not isinstance(request, Request):
                raise
            return error_response(e.status_code, e.reason)
        finally:
            if isinstance(request, Request):
                # A multipart upload is spooled to temporary files (at most the limit of its
                # body): close them after every request, answered or refused.
                await request.close()

    def _may_be_prepared(self, request: Request | WebSocket) -> bool:
        """Whether the engine prepares documents and this is a POST of JSON, or a GET with a
        query in its address, to be answered with JSON (not streamed), which may send one."""
        engine = self.schema.engine
        if engine is None or engine.prepared is None or not isinstance(request, Request):
            return False
        if request.method == "GET":
            # Without a query, a GET asks for GraphiQL's page.
            asks = "query" in request.query_params
        else:
            asks = request.method == "POST" and _media_type(request.scope) == "application/json"
        return asks and not engine.streamed(self, _header(request.scope, b"accept") or "")

    async def answer_prepared(self, request: Request, context: Context) -> Response | None:
        """The answer to a POST (or a GET) of a prepared document, as Strawberry's run would
        give it without its request parsing and dispatch (a tenth of a small query's CPU); None
        for any other request, which Strawberry's run then answers."""
        engine = self.schema.engine
        assert engine is not None  # run asks only where the engine prepares documents
        if request.method == "GET":
            found = engine.prepared_get(request.query_params)
        else:
            found = engine.prepared_request(await _body(request))
        if found is None:
            return None
        result = await self.schema.execute_prepared(
            found.prepared, found.query, found.variables, context, None, found.operation_name
        )
        if result.errors or result.extensions:
            response_data = await self.process_result(request, result)
        else:
            response_data = _data_only(request, result.data)
        if result.errors:
            engine.handle_errors(self, result.errors, response_data)
        return self.create_response(response_data, _sub_response(request))

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = _app_state(request)
        context = new_context(request, response)
        if isinstance(request, WebSocket):
            return context  # authenticated by connection_init, in on_ws_connect
        if request.method == "GET" and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            return context  # the GraphiQL page itself; its requests carry the token
        authorization = _header(request.scope, b"authorization") or credentials(
            request, state["settings"].public_url
        )
        principal = await authenticate(state["pool"], authorization, state["tokens"])
        if principal is None:
            raise HTTPException(401, UNAUTHORIZED)
        if principal.scope != "admin" and _is_multipart(request.scope):
            # Refused before its body is read: uploads are for startImport, a mutation.
            raise Refused(403, "FORBIDDEN", "This token is read-only: it cannot upload files.")
        context.authenticate(
            principal, make_loaders(state["pool"], principal.tenant_id, state["cursor_key"])
        )
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        principal = await authenticate(context.pool, ws_authorization(context))
        if principal is None:
            raise NotAuthenticated(
                "No valid token in the connection_init payload, nor a console session."
            )
        context.authenticate(
            principal, make_loaders(context.pool, principal.tenant_id, context.cursor_key)
        )
        return None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return _sub_response(request)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        errors: list[dict[str, Any]] = response.get("errors") or []  # type: ignore[assignment]
        for error in errors:
            # graphql-core quotes a wrong variable's whole value, twice: a 500 KB answer.
            error["message"] = cut_message(error["message"])
            if "code" not in error.get("extensions", {}) and error["message"].startswith(SYNTAX):
                error["extensions"] = {**error.get("extensions", {}), "code": _syntax_code(error)}
        if not _accepts_graphql_response(request):
            return response
        # GraphQL over HTTP: with application/graphql-response+json, a request that never
        # executed (it did not parse or validate) has no `data` and gets a 4xx.
        sub_response = _sub_response(request)
        sub_response.media_type = GRAPHQL_RESPONSE_JSON
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            response.pop("data", None)
            sub_response.status_code = 400
        return response

    def decode_json(self, data: str | bytes) -> object:
        # orjson's JSONDecodeError is json's, which Strawberry answers with a 400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # orjson: several times json.dumps on a page of users. Text, not bytes: Strawberry sends
        # bytes over a WebSocket as binary frames, which graphql-transport-ws does not allow.
        if isinstance(data, Encoded):
            return data  # a subscription's message the engine has encoded
        return _json_bytes(data).decode()

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        # Strawberry's, with the bytes orjson made rather than a str encoded again.
        response = _response(
            _json_bytes(response_data),
            sub_response.status_code or 200,
            sub_response.media_type or "application/json",
        )
        # The raw lists: `headers` makes a new MutableHeaders on each read.
        response.raw_headers.extend(sub_response.raw_headers)
        if sub_response.background:
            response.background = sub_response.background
        return response

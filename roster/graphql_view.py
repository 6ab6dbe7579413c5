"""/graphql: Strawberry's ASGI view with Roster's authentication and the GraphQL over HTTP media
type."""

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from resolvers.loaders import make_loaders
from roster.auth import authenticate
from schema.context import Context, NotAuthenticated

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except NotAuthenticated:
            # graphql-transport-ws: 4401 Unauthorized, where Strawberry would say 4403.
            await self.websocket.close(code=4401, reason="Unauthorized")


def new_context(request: Request | WebSocket, response: Any) -> Context:
    """A context with the app's clients and no caller yet."""
    state = request.state
    return Context(
        request=request,
        response=response,
        pool=state.pool,
        redis=state.redis,
        executor=state.executor,
        public_url=state.settings.public_url,
        max_upload_bytes=state.settings.max_upload_bytes,
        relay=state.relay,
        export_link=state.export_link,
        export_ttl=state.settings.export_ttl,
    )


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


class RosterGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _TransportWSHandler

    def __init__(self, schema: Any) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Not a CSRF door: every request needs an Authorization header, which no browser
            # sends cross-site without a CORS preflight, and Roster answers no preflight.
            multipart_uploads_enabled=True,
        )

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                # A multipart upload is spooled to temporary files: close them after every
                # request, answered or refused (no token, read-only token, invalid query).
                await request.close()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.state
        context = new_context(request, response)
        if isinstance(request, WebSocket):
            return context  # authenticated by connection_init, in on_ws_connect
        if request.method == "GET" and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            return context  # the GraphiQL page itself; its requests carry the token
        principal = await authenticate(state.pool, request.headers.get("authorization"))
        if principal is None:
            raise HTTPException(
                401, "Unauthorized: send a valid token as `Authorization: Bearer <token>`."
            )
        context.authenticate(principal, make_loaders(state.pool, principal.tenant_id))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        value = params.get("authorization") or params.get("Authorization")
        principal = await authenticate(context.pool, value if isinstance(value, str) else None)
        if principal is None:
            raise NotAuthenticated("No valid token in the connection_init payload.")
        context.authenticate(principal, make_loaders(context.pool, principal.tenant_id))
        return None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if not _accepts_graphql_response(request):
            return response
        # GraphQL over HTTP: with application/graphql-response+json, a request that never
        # executed (it did not parse or validate) has no `data` and gets a 4xx.
        sub_response: Response = request.state.sub_response
        sub_response.media_type = GRAPHQL_RESPONSE_JSON
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            response.pop("data", None)
            sub_response.status_code = 400
        return response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type:
            response.headers["content-type"] = sub_response.media_type
        return response

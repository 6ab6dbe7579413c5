"""graphql-transport-ws with Roster's tokens, on Strawberry's handler of the protocol.

The one module of the engine loaded whatever ROSTER_PLAIN_EXECUTION says: a socket's token is
checked (4401 without a valid one) and a revoked one ends its socket in both modes, and only a
subclass of Strawberry's internal handler can do either (its view's hooks answer 4403 and cannot
stop a socket's operations)."""

import contextlib
from uuid import UUID

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from roster.auth import CrossOrigin, authenticate, credentials
from roster.revocation import OpenSockets
from schema.context import Context, NotAuthenticated


class Encoded(str):
    """A message already encoded as JSON text, which the view's encode_json sends as it is
    (the engine encodes a subscription's shared answer once for all its subscribers)."""

    __slots__ = ()


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with Roster's tokens: 4401 without a valid one, and a token revoked
    while its socket is open ends the socket (found by the next operation sent on it, or within
    seconds by the process's OpenSockets)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except NotAuthenticated:
            # graphql-transport-ws: 4401 Unauthorized, where Strawberry would say 4403.
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        token_id = self._token_id()
        if self.connection_acknowledged and token_id is not None:
            self._open_sockets().add(token_id, self.end)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self._token_still_active():
            await self.end()
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # The engine runs the subscriptions of documents it has prepared (with it off, or for
        # anything else, Strawberry's way).
        engine = getattr(self.schema, "engine", None)
        if engine is not None and self.context.principal is not None:
            run = engine.subscription(self, operation)
            if run is not None:
                await run
                return
        await super().run_operation(operation)

    async def shutdown(self) -> None:
        token_id = self._token_id()
        if token_id is not None:
            self._open_sockets().discard(token_id, self.end)
        await super().shutdown()

    async def end(self) -> None:
        """Closes the socket of a revoked token, stopping its operations first so that none
        of them sends on a closed socket."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        # Already closed: by the client, or by the other of the two paths that revoke.
        with contextlib.suppress(RuntimeError, WebSocketDisconnected):
            await self.websocket.close(code=4401, reason="Token revoked")

    async def _token_still_active(self) -> bool:
        # Not through the process's token cache: an operation on an open socket is refused
        # from the instant its token's revocation commits, not from the instant this process
        # hears of it (a millisecond later at most, usually), at one query per operation.
        return await authenticate(self.context.pool, ws_authorization(self.context)) is not None

    def _token_id(self) -> UUID | None:
        principal = self.context.principal
        return principal.token_id if principal is not None else None

    def _open_sockets(self) -> OpenSockets:
        sockets: OpenSockets = self.context.request.state.sockets
        return sockets


def ws_authorization(context: Context) -> str | None:
    """The `authorization` value of the connection_init payload, else the console session's
    cookie, sent with the upgrade and taken only from the console's own origin (a page of
    another site can open a WebSocket to any host, with the cookies of that host)."""
    params = context.connection_params or {}
    value = params.get("authorization") or params.get("Authorization")
    if isinstance(value, str):
        return value
    try:
        return credentials(context.request, context.public_url)
    except CrossOrigin:
        return None

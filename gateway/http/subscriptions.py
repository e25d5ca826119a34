"""Subscriptions on ``/graphql``: ``graphql-transport-ws`` over a WebSocket and GraphQL over SSE.

WebSocket: Strawberry's own ``graphql-transport-ws`` handler runs the protocol (init, subscribe, next,
complete, ping, its close codes); :class:`SubscriptionSocket` adds the gateway's authentication at
``connection_init``: the credential is the payload's ``authorization`` (``"Bearer <credential>"``)
or, failing that, the upgrade request's ``Authorization`` header.  An unknown credential, or one
without ``contacts:read``, is refused with the protocol's ``4403 Forbidden``; a subscribe before the
acknowledgement with ``4401``.  Only ``graphql-transport-ws`` is offered (not the legacy
``graphql-ws``): one protocol to secure and test.

SSE: Strawberry serves subscriptions over HTTP as multipart responses only, so the graphql-sse
"distinct connections" mode is written here (:class:`SubscriptionEvents`): a GET or POST to
``/graphql`` with ``Accept: text/event-stream`` streams ``event: next`` (``data:`` one execution
result) per event and ends with ``event: complete``; a quiet stream carries a ``: keep-alive``
comment every ``FEED_KEEPALIVE_SECONDS``.  It authenticates like any GraphQL request
(401 before anything streams).  A client resumes by subscribing again with ``after``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

import orjson
import strawberry
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway.core.principals import Caller, Principal, PrincipalKind
from gateway.core.principals import Scope as Permission
from gateway.schema.errors import shape_errors
from gateway.schema.subscriptions import FeedContext

from .documents import DocumentResolver
from .endpoint import Authenticate
from .negotiation import EVENT_STREAM, prefers_event_stream
from .params import GraphQLParams, params_from_body, params_from_query_string, read_json_body
from .rejections import RequestRejected
from .request_id import request_ids
from .responses import rejection_response, result_body

__all__ = [
    "EventStreamSwitch",
    "FeedContextGetter",
    "SubscriptionEvents",
    "SubscriptionSocket",
]

logger = logging.getLogger("gateway.subscriptions")

FeedContextGetter = Callable[[Caller], FeedContext]
"""The subscription context of a caller (the application's services and feed)."""

_NOBODY = Principal(PrincipalKind.KEY, "", "not yet authenticated", frozenset())
_SSE_OPERATIONS = frozenset({OperationType.QUERY, OperationType.SUBSCRIPTION})
_KEEPALIVE = b": keep-alive\n\n"


class EventStreamSwitch:
    """``/graphql`` over HTTP: requests asking for ``text/event-stream`` go to ``events`` (SSE), the
    rest to ``endpoint`` (the GraphQL endpoint, unchanged).  A class, not a function: Starlette's
    ``Route`` treats a function as a GET-only request handler."""

    def __init__(self, endpoint: ASGIApp, events: ASGIApp) -> None:
        self.endpoint = endpoint
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = prefers_event_stream(Headers(scope=scope).get("accept"))
        await (self.events if wanted else self.endpoint)(scope, receive, send)


def _credential_request(scope: Scope, authorization: str | None) -> Request:
    """An HTTP request carrying only ``authorization``, for the authenticator (which reads headers)."""
    # A header value is latin-1; anything else cannot be a credential, and is refused as one.
    value = None if authorization is None else authorization.encode("latin-1", errors="replace")
    headers = [] if value is None else [(b"authorization", value)]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": scope.get("path", "/graphql"),
            "query_string": b"",
            "headers": headers,
            "client": scope.get("client"),
            "gateway.request_ids": request_ids(scope),
        }
    )


class _TransportHandler(BaseGraphQLTransportWSHandler[FeedContext, None]):
    """Strawberry's protocol handler; a ``subscribe`` first passes the gateway's document rules
    (persisted queries, trusted documents), as a request to the GraphQL endpoint would."""

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            # The connection is over however it ended: its principal may open another.
            cast("SubscriptionSocket", self.view).connection_closed(self.context)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        view = cast("SubscriptionSocket", self.view)
        payload = message.get("payload")
        if not isinstance(payload, dict):
            await self.handle_invalid_message("A subscribe message needs a payload object")
            return
        if self.connection_acknowledged and message["id"] not in self.operations:
            try:
                query = await view.documents.document(_params(payload))
            except RequestRejected as rejection:
                error = GraphQLError(rejection.message, extensions={"code": rejection.code})
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
                )
                return
            payload["query"] = query
        await super().handle_subscribe(message)


def _params(payload: Mapping[str, Any]) -> GraphQLParams:
    query, variables = payload.get("query"), payload.get("variables")
    operation_name, extensions = payload.get("operationName"), payload.get("extensions")
    if not isinstance(query, str | None) or not isinstance(operation_name, str | None):
        raise RequestRejected(400, "BAD_REQUEST", "query and operationName are strings.")
    return GraphQLParams(
        query=query,
        operation_name=operation_name,
        variables=variables if isinstance(variables, dict) else None,
        extensions=extensions if isinstance(extensions, dict) else None,
    )


class SubscriptionSocket(GraphQL[FeedContext, None]):
    """Strawberry's ASGI view, for ``graphql-transport-ws`` WebSockets only (``WebSocketRoute``)."""

    graphql_transport_ws_handler_class = _TransportHandler

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        authenticate: Authenticate,
        context_getter: FeedContextGetter,
        connection_init_wait_seconds: float,
        max_subscriptions_per_connection: int,
        documents: DocumentResolver,
        allowed_origins: Sequence[str] = (),
        max_connections_per_principal: int | None = None,
    ) -> None:
        """``max_connections_per_principal``: open connections one principal may hold on this
        replica (None: no limit); one more is refused at ``connection_init`` (4403)."""
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=connection_init_wait_seconds),
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self._authenticate = authenticate
        self._context_getter = context_getter
        self.documents = documents
        self._max_connections = max_connections_per_principal
        self._connections: collections.Counter[str] = collections.Counter()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> FeedContext:
        ids = request_ids(request.scope)
        context = self._context_getter(Caller(_NOBODY, ids.request_id, ids.correlation_id))
        context.upgrade_scope = request.scope
        return context

    async def on_ws_connect(self, context: FeedContext) -> UnsetType | dict[str, object] | None:
        given = context.connection_params.get("authorization")
        scope = context.upgrade_scope or {}
        if not isinstance(given, str):
            given = Headers(scope=scope).get("authorization") if scope else None
        try:
            principal = await self._authenticate(_credential_request(scope, given))
        except RequestRejected as rejection:
            logger.info("refused a subscription connection: %s", rejection.code)
            raise ConnectionRejectionError from rejection
        if not principal.allows(Permission.CONTACTS_READ):
            logger.info("refused a subscription connection: no %s scope", Permission.CONTACTS_READ.value)
            raise ConnectionRejectionError
        owner = f"{principal.kind.value}:{principal.id}"
        if self._max_connections is not None and self._connections[owner] >= self._max_connections:
            logger.info("refused a subscription connection: %d already open", self._max_connections)
            raise ConnectionRejectionError
        # Counted with no await since the check: two connections cannot both pass it.
        self._connections[owner] += 1
        context.connection_owner = owner
        context.caller = Caller(principal, context.caller.request_id, context.caller.correlation_id)
        return cast(UnsetType, UNSET)  # UNSET is typed Any: acknowledged without a payload

    def connection_closed(self, context: FeedContext) -> None:
        owner, context.connection_owner = context.connection_owner, None
        if owner is not None:
            self._connections[owner] -= 1
            if self._connections[owner] <= 0:
                del self._connections[owner]


def _event(kind: str, payload: dict[str, Any] | None) -> bytes:
    data = b"" if payload is None else orjson.dumps(payload)
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


class SubscriptionEvents:
    """GraphQL over SSE, distinct connections mode: one operation per request, streamed."""

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        authenticate: Authenticate,
        context_getter: FeedContextGetter,
        max_body_bytes: int,
        documents: DocumentResolver,
        keepalive_seconds: float,
    ) -> None:
        self.schema = schema
        self.documents = documents
        self.keepalive_seconds = keepalive_seconds
        self._authenticate = authenticate
        self._context_getter = context_getter
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        ids = request_ids(request.scope)
        try:
            if request.method not in ("GET", "POST"):
                raise RequestRejected(405, "METHOD_NOT_ALLOWED", "Use GET or POST.", {"Allow": "GET, POST"})
            principal = await self._authenticate(request)
            params = await self._params(request)
            query = await self.documents.document(params)
        except RequestRejected as rejection:
            return rejection_response(rejection, None)
        context = self._context_getter(Caller(principal, ids.request_id, ids.correlation_id))
        stream = self._events(query, params, context)
        return StreamingResponse(
            stream,
            media_type=EVENT_STREAM,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"},
        )

    async def _params(self, request: Request) -> GraphQLParams:
        if request.method == "POST":
            return params_from_body(await read_json_body(request, self.max_body_bytes))
        return params_from_query_string(request.query_params)

    async def _events(self, query: str, params: GraphQLParams, context: FeedContext) -> AsyncIterator[bytes]:
        results = await self.schema.stream(
            query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            allowed_operation_types=_SSE_OPERATIONS,
        )
        # The results are read by a task of their own, and a ticker adds a comment every
        # keepalive_seconds (proxies close connections that stay silent).  One message at a time
        # waits in between: a slow reader holds the stream back, as the hub's buffer expects.
        ready: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)

        async def pump() -> None:
            try:
                async for result in results:
                    if not isinstance(result, ExecutionResult):
                        continue  # incremental delivery (@defer/@stream) is not offered
                    if result.errors:
                        result.errors = shape_errors(result.errors, context)
                    body, _ = result_body(result)
                    await ready.put(_event("next", body))
            finally:
                await results.aclose()
                await ready.put(None)

        async def tick() -> None:
            while True:
                await asyncio.sleep(self.keepalive_seconds)
                await ready.put(_KEEPALIVE)

        reader = asyncio.create_task(pump())
        ticker = asyncio.create_task(tick())
        try:
            while (message := await ready.get()) is not None:
                yield message
            await reader  # a failure of the reader is raised here, not lost
            yield _event("complete", None)
        finally:
            for task in (ticker, reader):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

"""``GraphQLEndpoint``: GraphQL over HTTP as one ASGI endpoint for a Starlette ``Route``.

Why not Strawberry's own view: the gateway needs things its view does not do -- Accept negotiation
with ``application/graphql-response+json`` and its status codes, a body-size limit, 406/415 with
GraphQL-shaped bodies, a request id handed to the context, orjson -- and overriding enough of it to
get them would leave little of it.  This class does the HTTP part and calls ``schema.execute``, so
the schema's error shaping (``gateway.schema.errors``) applies to every result.

Order of checks, each answered as soon as it fails:

1. method: GET, HEAD or POST (405 otherwise); a browser's GET without ``query`` gets GraphiQL;
2. ``Accept`` -> response media type (406);
3. POST: ``Content-Type`` (415), body size (413), JSON (400); GET: the query string (400);
4. GraphQL parameters (400), then the document they name (``gateway.http.documents``: persisted
   queries and trusted documents);
5. execution; a mutation sent by GET is refused with 405 and ``Allow: POST``.

Before step 3 the caller is authenticated (``authenticate``): a request without valid credentials
is answered 401 there, before its body is read.  Every response carries ``X-Request-ID``.  Anything
that escapes becomes a masked error with the request id, logged with its traceback, never a bare
500 page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.core.deadlines import request_deadline
from gateway.core.principals import Caller, Principal

from .documents import DocumentResolver
from .graphiql import GraphiQL, default_graphiql
from .negotiation import MediaType, accepts_html, negotiate
from .params import GraphQLParams, params_from_body, params_from_query_string, read_json_body
from .rejections import RequestRejected, method_not_allowed, not_acceptable
from .request_id import CORRELATION_ID_HEADER, REQUEST_ID_HEADER, request_ids
from .responses import error_body, graphql_response, internal_error_response, rejection_response, result_body

__all__ = ["Authenticate", "ContextGetter", "GraphQLEndpoint"]

logger = logging.getLogger("gateway.http")

ContextGetter = Callable[[Request, Caller], Awaitable[Any]]
Authenticate = Callable[[Request], Awaitable[Principal]]
"""The principal a request's credentials stand for; raises :class:`RequestRejected` (401) when none."""


async def _authentication_off(request: Request) -> Principal:
    return Principal.local()


_READ_METHODS = frozenset({"GET", "HEAD"})
_METHODS = _READ_METHODS | {"POST"}
_GET_OPERATIONS = frozenset({OperationType.QUERY})
# Subscriptions are let through to validation, which refuses them: the schema has no Subscription type.
_POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION})


class GraphQLEndpoint:
    """An ASGI app answering GraphQL over HTTP (GET and POST) for ``schema``.

    ``context_getter(request, caller)`` builds the per-request context value; a POST body longer
    than ``max_body_bytes`` is refused with 413 (``Settings.max_body_bytes`` in the application).
    ``deadline_seconds`` bounds the upstream work of each request's execution (see
    :mod:`gateway.core.deadlines`); None leaves it unbounded.
    Without ``authenticate`` every request is the local principal (authentication off).
    ``documents`` decides which text a request runs (persisted queries, trusted documents); without
    it every request must carry its ``query`` text.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        context_getter: ContextGetter,
        max_body_bytes: int,
        graphiql: GraphiQL | None = None,
        authenticate: Authenticate | None = None,
        documents: DocumentResolver | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        self.schema = schema
        self.deadline_seconds = deadline_seconds
        self.authenticate = authenticate or _authentication_off
        self.context_getter = context_getter
        self.max_body_bytes = max_body_bytes
        self.graphiql = graphiql or default_graphiql()
        # Without a resolver: texts only (a hash alone is PERSISTED_QUERY_NOT_SUPPORTED).  Nothing is
        # ever registered then, so the registration limits below are never consulted.
        self.documents = documents or DocumentResolver(
            store=None, max_document_bytes=max_body_bytes, max_query_tokens=1
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        ids = request_ids(scope)
        request_id = ids.request_id
        started = time.perf_counter()
        try:
            response = await self._respond(request, ids.request_id, ids.correlation_id)
        except ClientDisconnect:
            logger.debug("client went away request_id=%s", request_id)
            return
        except Exception:
            logger.exception("unhandled error request_id=%s", request_id)
            response = internal_error_response(request_id, _safe_negotiate(request))
        # Also set by RequestIdMiddleware in the application; set here too for an endpoint mounted alone.
        response.headers[REQUEST_ID_HEADER] = request_id
        if ids.correlation_id is not None:
            response.headers[CORRELATION_ID_HEADER] = ids.correlation_id
        logger.debug(
            "graphql request_id=%s method=%s status=%s ms=%.1f",
            request_id,
            request.method,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        await response(scope, receive, send)

    async def _respond(self, request: Request, request_id: str, correlation_id: str | None) -> Response:
        media_type: MediaType | None = None
        try:
            if request.method not in _METHODS:
                raise method_not_allowed("Use GET or POST.", "GET, HEAD, POST")
            accept = request.headers.get("accept")
            if (
                request.method in _READ_METHODS
                and "query" not in request.query_params
                and accepts_html(accept)
            ):
                return self.graphiql.page()
            media_type = negotiate(accept)
            if media_type is None:
                raise not_acceptable()
            caller = Caller(await self.authenticate(request), request_id, correlation_id)
            params = await self._params(request)
            query = await self.documents.document(params)
            return await self._execute(request, caller, params, query, media_type)
        except RequestRejected as rejection:
            return rejection_response(rejection, media_type)

    async def _params(self, request: Request) -> GraphQLParams:
        if request.method == "POST":
            return params_from_body(await read_json_body(request, self.max_body_bytes))
        return params_from_query_string(request.query_params)

    async def _execute(
        self, request: Request, caller: Caller, params: GraphQLParams, query: str, media_type: MediaType
    ) -> Response:
        by_get = request.method in _READ_METHODS
        context = await self.context_getter(request, caller)
        try:
            with request_deadline(self.deadline_seconds):
                result = await self.schema.execute(
                    query,
                    variable_values=params.variables,
                    context_value=context,
                    operation_name=params.operation_name,
                    allowed_operation_types=_GET_OPERATIONS if by_get else _POST_OPERATIONS,
                )
        except InvalidOperationTypeError as error:
            if by_get and error.operation_type is OperationType.MUTATION:
                raise method_not_allowed("Mutations must be sent with POST.", "POST") from None
            body = error_body(error.as_http_error_reason(request.method), "OPERATION_NOT_SUPPORTED")
            return graphql_response(body, has_data=False, media_type=media_type)
        except CannotGetOperationTypeError as error:
            body = error_body(error.as_http_error_reason(), "OPERATION_RESOLUTION_FAILURE")
            return graphql_response(body, has_data=False, media_type=media_type)
        body, has_data = result_body(result)
        return graphql_response(body, has_data=has_data, media_type=media_type)


def _safe_negotiate(request: Request) -> MediaType | None:
    try:
        return negotiate(request.headers.get("accept"))
    except Exception:
        return None

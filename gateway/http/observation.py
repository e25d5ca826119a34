"""``ObservationMiddleware``: every HTTP request measured, traced and logged, whichever route answers.

It wraps the whole application (outermost), so its duration and its access line cover everything
the gateway does for a request, 404s and health checks included.  Per request it opens the
:class:`~gateway.observability.request_record.RequestRecord` that the inner layers fill, starts the
request's span when tracing is on, and when the response is finished: feeds the GraphQL metrics
(requests answered with a GraphQL body only), ends the span and writes the access line.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.access_log import PRINCIPAL_SCOPE_KEY, log_access, principal_label
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.request_record import RequestRecord, close_record, open_record
from gateway.observability.tracing import Tracing

from .request_id import request_ids

__all__ = ["ObservationMiddleware"]


class ObservationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: GatewayMetrics | None = None,
        tracing: Tracing | None = None,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids = request_ids(scope)
        record = RequestRecord(ids.request_id, ids.correlation_id)
        token = open_record(record)
        method: str = scope["method"]
        path: str = scope["path"]
        span = None
        if self.tracing is not None:
            span = self.tracing.http_span(method, path, Headers(scope=scope))
            record.trace_id = span.trace_id
        status = 500  # what is reported when the application fails before it starts a response
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None and record.outcome is not None:
                self.metrics.observe_graphql(record, seconds)
            if span is not None:
                span.end(status, _route(scope))
            if self.access_log:
                log_access(
                    record,
                    method=method,
                    path=path,
                    status=status,
                    seconds=seconds,
                    principal=principal_label(scope.get(PRINCIPAL_SCOPE_KEY)),
                )
            close_record(token)


def _route(scope: Scope) -> str:
    """The matched route's path template (a bounded span name), or ``unmatched``."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else "unmatched"

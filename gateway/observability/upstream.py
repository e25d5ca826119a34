"""The application's :class:`~gateway.providers.observation.UpstreamObserver`: each provider exchange
becomes metrics, a count in the request's access line and, when tracing is on, a span.

The providers' protocol is met structurally (this package does not import ``gateway.providers``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from gateway.core.model import Provider

from .metrics import GatewayMetrics
from .request_record import current_record
from .tracing import SpanHandle, Tracing

__all__ = ["ObservedUpstream"]

_NO_HEADERS: Mapping[str, str] = {}


class ObservedUpstream:
    """Feeds ``metrics`` (if any) and ``tracing`` (if any) with every provider exchange."""

    def __init__(self, metrics: GatewayMetrics | None, tracing: Tracing | None = None) -> None:
        self._metrics = metrics
        self._tracing = tracing

    def exchange_started(
        self, provider: Provider, http_method: str, methods: Sequence[str], retry_number: int
    ) -> _Exchange:
        span = None
        headers = _NO_HEADERS
        if self._tracing is not None:
            span = self._tracing.upstream_span(provider, http_method, methods, retry_number)
            headers = span.trace_headers()
        return _Exchange(self._metrics, provider, methods, retry_number, span, headers)


class _Exchange:
    __slots__ = ("_methods", "_metrics", "_provider", "_retry_number", "_span", "_started", "headers")

    def __init__(
        self,
        metrics: GatewayMetrics | None,
        provider: Provider,
        methods: Sequence[str],
        retry_number: int,
        span: SpanHandle | None,
        headers: Mapping[str, str],
    ) -> None:
        self._metrics = metrics
        self._provider = provider
        self._methods = methods
        self._retry_number = retry_number
        self._span = span
        self.headers = headers
        self._started = time.perf_counter()

    def finished(self, statuses: Sequence[str]) -> None:
        seconds = time.perf_counter() - self._started
        if self._metrics is not None:
            self._metrics.observe_upstream(
                self._provider, self._methods, statuses, self._retry_number, seconds
            )
        record = current_record()
        if record is not None:
            record.upstream_calls += len(self._methods)
        if self._span is not None:
            self._span.end_upstream(statuses)

"""Tracing, as the rest of the gateway sees it: a few span kinds, or nothing at all.

OpenTelemetry is loaded only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (:func:`tracing_from_settings`
imports :mod:`gateway.observability.otel`, the one module that imports the SDK); otherwise
every caller holds ``None`` instead of a :class:`Tracing` and no OpenTelemetry module is imported.

Spans: one per HTTP request (continuing a caller's W3C ``traceparent``), per GraphQL operation, per
DataLoader batch and per upstream exchange (whose ``traceparent`` is sent to the provider).  Their
attributes name routes, methods, statuses and counts only: never a query string, an address or a
credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from gateway.config import Settings
from gateway.core.model import Provider

__all__ = ["HttpSpan", "SpanHandle", "Tracing", "tracing_from_settings"]


class SpanHandle(Protocol):
    """An upstream exchange's span, open until :meth:`end_upstream`."""

    def trace_headers(self) -> Mapping[str, str]:
        """The W3C trace-context headers naming this span as the provider request's parent."""
        ...

    def end_upstream(self, statuses: Sequence[str]) -> None: ...


class HttpSpan(Protocol):
    """A request's server span, open until :meth:`end`."""

    @property
    def trace_id(self) -> str | None:
        """The trace id in hex (32 characters), as logs print it."""
        ...

    def end(self, status_code: int, route: str) -> None: ...


class Tracing(Protocol):
    def http_span(self, method: str, path: str, headers: Mapping[str, str]) -> HttpSpan:
        """Start a request's span, continuing the caller's ``traceparent`` when it sent a valid one,
        and make it current until :meth:`HttpSpan.end`."""
        ...

    def operation_span(self, operation_name: str | None, operation_type: str) -> AbstractContextManager[None]:
        """A GraphQL operation's span, current inside the block."""
        ...

    def batch_span(self, loader: str, keys: int) -> AbstractContextManager[None]:
        """One DataLoader batch's span, current inside the block."""
        ...

    def upstream_span(
        self, provider: Provider, http_method: str, methods: Sequence[str], retry_number: int
    ) -> SpanHandle: ...

    def shutdown(self) -> None:
        """Export what is pending and stop."""
        ...


def tracing_from_settings(settings: Settings) -> Tracing | None:
    """OpenTelemetry tracing exporting to ``OTEL_EXPORTER_OTLP_ENDPOINT`` over OTLP/HTTP, or None
    (and no OpenTelemetry import) when it is not set."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from .otel import otlp_tracing  # here, not at the top: without an endpoint the SDK is never loaded

    return otlp_tracing(settings.otel_exporter_otlp_endpoint, service_name=settings.otel_service_name)

"""Tracing with the OpenTelemetry SDK: the one module that imports it (see ``tracing``).

Each application gets its own ``TracerProvider`` rather than the process-wide global one, so two
applications in one process (tests) keep their spans apart, and W3C trace context is read and
written with the propagator directly rather than through the global propagator.

Span attributes follow OpenTelemetry's HTTP conventions where they apply (``http.request.method``,
``http.route``, ``http.response.status_code``, ``http.request.resend_count``) plus ``gateway.*``
names for the rest.  Deliberately absent: URLs and query strings (a GET's variables and Constant
Contact's by-address query hold addresses), request and response bodies, headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import Token

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.core.model import Provider

__all__ = ["OtelTracing", "otlp_tracing"]

_PROPAGATOR = TraceContextTextMapPropagator()


class OtelTracing:
    """The :class:`~gateway.observability.tracing.Tracing` of one application, on ``provider``."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("gateway")

    @classmethod
    def exporting_to(cls, exporter: SpanExporter, *, service_name: str, batched: bool = True) -> OtelTracing:
        """Spans sent to ``exporter``: in batches from a background thread, or each as it ends."""
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        processor = BatchSpanProcessor(exporter) if batched else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        return cls(provider)

    def http_span(self, method: str, path: str, headers: Mapping[str, str]) -> _HttpSpan:
        parent = _PROPAGATOR.extract(carrier=headers)
        span = self._tracer.start_span(
            method, context=parent, kind=SpanKind.SERVER, attributes={"http.request.method": method}
        )
        token = otel_context.attach(set_span_in_context(span, parent))
        return _HttpSpan(span, token, method)

    def operation_span(self, operation_name: str | None, operation_type: str) -> AbstractContextManager[None]:
        attributes = {"graphql.operation.type": operation_type}
        if operation_name is not None:
            attributes["graphql.operation.name"] = operation_name
        name = f"{operation_type} {operation_name}" if operation_name else operation_type
        return self._current(name, attributes)

    def batch_span(self, loader: str, keys: int) -> AbstractContextManager[None]:
        return self._current(f"batch {loader}", {"gateway.loader": loader, "gateway.batch.keys": keys})

    @contextmanager
    def _current(self, name: str, attributes: Mapping[str, str | int]) -> Iterator[None]:
        with self._tracer.start_as_current_span(name, attributes=attributes):
            yield

    def upstream_span(
        self, provider: Provider, http_method: str, methods: Sequence[str], retry_number: int
    ) -> _UpstreamSpan:
        distinct = list(dict.fromkeys(methods))
        attributes: dict[str, str | int | Sequence[str]] = {
            "gateway.provider": provider.value,
            "http.request.method": http_method,
            "gateway.upstream.methods": distinct,
            "gateway.upstream.calls": len(methods),
            "gateway.retry_number": retry_number,
        }
        if retry_number:
            attributes["http.request.resend_count"] = retry_number
        if provider is Provider.GETRESPONSE:
            attributes["rpc.system"] = "jsonrpc"
            if len(distinct) == 1:
                attributes["rpc.method"] = distinct[0]
        else:
            attributes["http.route"] = distinct[0]
        name = f"{provider.value} {distinct[0] if len(distinct) == 1 else 'batch'}"
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        return _UpstreamSpan(span)

    def shutdown(self) -> None:
        self._provider.shutdown()


class _HttpSpan:
    __slots__ = ("_method", "_span", "_token")

    def __init__(self, span: Span, token: Token[Context], method: str) -> None:
        self._span = span
        self._token = token
        self._method = method

    @property
    def trace_id(self) -> str | None:
        context = self._span.get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None

    def end(self, status_code: int, route: str) -> None:
        span = self._span
        span.update_name(f"{self._method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status_code)
        if status_code >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(self._token)


class _UpstreamSpan:
    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def trace_headers(self) -> Mapping[str, str]:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=set_span_in_context(self._span))
        return carrier

    def end_upstream(self, statuses: Sequence[str]) -> None:
        span = self._span
        first = statuses[0] if statuses else "none"
        if first.isdigit():
            span.set_attribute("http.response.status_code", int(first))
        span.set_attribute("gateway.upstream.statuses", list(statuses))
        if any(not (status.isdigit() and status.startswith("2")) for status in statuses):
            span.set_status(Status(StatusCode.ERROR))
        span.end()


def otlp_tracing(endpoint: str, *, service_name: str) -> OtelTracing:
    """Spans exported over OTLP/HTTP to ``endpoint`` (the collector's base URL; ``/v1/traces`` is added)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    return OtelTracing.exporting_to(exporter, service_name=service_name)

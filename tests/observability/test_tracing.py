"""Trace context sent to providers, a real OTLP/HTTP export, and no OpenTelemetry when tracing is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.config import Settings
from gateway.core.model import Provider
from gateway.observability.otel import OtelTracing
from gateway.observability.tracing import tracing_from_settings
from gateway.observability.upstream import ObservedUpstream
from gateway.providers.constant_contact.client import ConstantContactClient, route_template
from gateway.providers.getresponse.client import GetResponseClient

ROOT = Path(__file__).resolve().parents[2]


def _memory_tracing() -> tuple[OtelTracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return OtelTracing.exporting_to(exporter, service_name="test", batched=False), exporter


async def test_both_clients_send_the_upstream_spans_traceparent() -> None:
    tracing, exporter = _memory_tracing()
    seen: list[str] = []

    def cc(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["traceparent"])
        return httpx.Response(204)

    def gr(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["traceparent"])
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": {"ping": "pong"}})

    observer = ObservedUpstream(None, tracing)
    async with (
        ConstantContactClient(
            base_url="http://cc.test", access_token="t", transport=httpx.MockTransport(cc), observer=observer
        ) as cc_client,
        GetResponseClient(
            api_url="http://gr.test/", api_key="k", transport=httpx.MockTransport(gr), observer=observer
        ) as gr_client,
    ):
        with tracing.operation_span("Op", "query"):
            await cc_client.delete_contact("someone@example.org")
            assert await gr_client.ping()

    spans = exporter.get_finished_spans()
    (operation,) = [s for s in spans if s.name == "query Op"]
    upstream = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert [s.name for s in upstream] == ["constant_contact /v3/contacts/{id}", "getresponse ping"]
    for span, header in zip(upstream, seen, strict=True):
        context = span.context
        assert header == f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
        assert span.parent is not None and span.parent.span_id == operation.context.span_id
    assert "@" not in json.dumps([dict(s.attributes or {}) for s in spans], default=list)


def test_route_templates_keep_the_clients_words_only() -> None:
    assert route_template("/v3/contacts/abc%2Edef?email=a%40b.org") == "/v3/contacts/{id}"
    assert route_template("/v3/activities/contact_delete") == "/v3/activities/contact_delete"
    assert route_template("/v3/contacts?cursor=xyz") == "/v3/contacts"


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()
    server.server_close()
    thread.join()


def test_spans_are_exported_over_otlp_http(collector: tuple[str, list[tuple[str, str, bytes]]]) -> None:
    url, received = collector
    tracing = tracing_from_settings(Settings(otel_exporter_otlp_endpoint=url, otel_service_name="gw-test"))
    assert tracing is not None
    request = tracing.http_span("POST", "/graphql", {})
    with tracing.operation_span("Op", "query"):
        span = tracing.upstream_span(Provider.GETRESPONSE, "POST", ["get_campaigns"], 0)
        span.end_upstream(["200"])
    request.end(200, "/graphql")
    tracing.shutdown()  # exports what is pending

    assert received
    path, content_type, body = received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    export = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = export.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "gw-test"
    names = {span.name for scope in resource_spans.scope_spans for span in scope.spans}
    assert names == {"POST /graphql", "query Op", "getresponse get_campaigns"}
    assert {
        format(int.from_bytes(s.trace_id), "032x") for sc in resource_spans.scope_spans for s in sc.spans
    } == {request.trace_id}


def test_without_an_endpoint_opentelemetry_is_not_imported(tmp_path: Path) -> None:
    program = (
        "import sys, asyncio, httpx\n"
        "from gateway.app import create_app\n"
        "from gateway.config import Settings\n"
        "async def main():\n"
        "    app = create_app(Settings(auth_mode='off'))\n"
        "    async with app.router.lifespan_context(app):\n"
        "        transport = httpx.ASGITransport(app)\n"
        "        async with httpx.AsyncClient(transport=transport, base_url='http://g') as c:\n"
        "            assert (await c.post('/graphql', json={'query': '{ __typename }'})).status_code == 200\n"
        "asyncio.run(main())\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "print(loaded)\n"
        "assert loaded == [], loaded\n"
    )
    environment = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'sandbox'}",
        "DATA_DIR": str(tmp_path),
    }
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

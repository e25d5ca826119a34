"""Traces over real sockets: the span tree of a first page with nested campaign and message.

The gateway's tracing exports to the SDK's in-memory exporter (``create_app(tracing=...)``); the
caller sends a W3C ``traceparent``, and the gateway's spans must continue that trace.
"""

from __future__ import annotations

import io
import json
import time

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.logs import configure_logging
from gateway.observability.otel import OtelTracing
from gateway.serving import BackgroundServer

from ..servers import ServerPool
from .conftest import ALL_SCOPES, GR_KEY, gateway_settings, issue_test_key, seeded_emulators

PAGE_WITH_NESTED = """
query NestedPage { deletedContacts(first: 100, filter: {providers: [GETRESPONSE]}) {
    edges { node {
        contactId email
        ... on GetResponseDeletedContact { campaign { name } message { id subject } }
    } }
} }
"""
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _finished_server_span(exporter: InMemorySpanExporter) -> None:
    # The server span ends once the response is sent: the client may read the answer a moment earlier.
    deadline = time.monotonic() + 10
    while not any(s.kind is SpanKind.SERVER for s in exporter.get_finished_spans()):
        assert time.monotonic() < deadline, "the request's span never ended"
        time.sleep(0.01)


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    parent_id = parent.context.span_id
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent_id]


async def test_a_first_page_with_nested_fields_is_one_tree_under_the_callers_trace(
    emulator_servers: ServerPool, captured: io.StringIO
) -> None:
    exporter = InMemorySpanExporter()
    tracing = OtelTracing.exporting_to(exporter, service_name="gateway-test", batched=False)
    cc, gr = seeded_emulators(emulator_servers)
    settings = gateway_settings(cc.url, f"{gr.url}/")
    app = create_app(settings, tracing=tracing)
    configure_logging(Settings(log_format="json"), stream=captured)
    with BackgroundServer(app) as gateway:
        key = await issue_test_key(settings, ALL_SCOPES)
        async with httpx.AsyncClient(
            base_url=gateway.url, timeout=30, headers={"authorization": f"Bearer {key}"}
        ) as client:
            await client.post(f"{gr.url}/_emulator/requests/reset")
            response = await client.post(
                "/graphql",
                json={"query": PAGE_WITH_NESTED},
                headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            )
            assert response.status_code == 200 and "errors" not in response.json()
            gr_requests = (await client.get(f"{gr.url}/_emulator/requests")).json()["http_requests"]
        _finished_server_span(exporter)
    spans = list(exporter.get_finished_spans())

    assert {format(s.context.trace_id, "032x") for s in spans} == {CALLER_TRACE}
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.parent is not None and format(server.parent.span_id, "016x") == CALLER_SPAN
    assert server.attributes is not None and server.attributes["http.response.status_code"] == 200

    (operation,) = _children(spans, server)
    assert operation.name == "query NestedPage"
    under_operation = _children(spans, operation)
    listing = [s for s in under_operation if s.kind is SpanKind.CLIENT]
    batches = [s for s in under_operation if s.name.startswith("batch ")]
    # The listing is one JSON-RPC batch; campaigns and messages come from one loader batch, which
    # makes one upstream call of its own.
    assert len(listing) == 1
    assert [b.name for b in batches] == ["batch getresponse_catalog"]
    (catalog_call,) = _children(spans, batches[0])
    assert catalog_call.kind is SpanKind.CLIENT
    upstream = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(upstream) == gr_requests == 2
    for span in upstream:
        attributes = dict(span.attributes or {})
        assert attributes["gateway.provider"] == "getresponse"
        assert attributes["http.response.status_code"] == 200
        assert attributes["gateway.retry_number"] == 0
        assert attributes["rpc.system"] == "jsonrpc"
    assert set(dict(listing[0].attributes or {})["gateway.upstream.methods"]) == {
        "get_contacts_deleted",
        "get_contacts",
    }
    assert len(spans) == 1 + 1 + 1 + len(upstream)  # nothing per field

    every_value = json.dumps([dict(s.attributes or {}) for s in spans], default=list)
    assert "@" not in every_value and GR_KEY not in every_value

    # The request's log lines carry the trace id.
    (access,) = [
        line
        for line in map(json.loads, captured.getvalue().splitlines())
        if line["logger"] == "gateway.access"
    ]
    assert access["trace_id"] == CALLER_TRACE

"""``python -m bench.observability_cost``: what metrics, the access log and tracing add to a 50-contact page.

The end-to-end overhead section (``bench.run --only overhead --observability off|on``) runs four
processes on shared cores, and its run-to-run spread is larger than the cost measured here.  This
measures the difference alone: two gateways in one process, identical but for observability -- one
with ``METRICS=off``, ``ACCESS_LOG=false`` and no tracing, the other with ``/metrics``, JSON access
lines (written to ``os.devnull``) and OpenTelemetry spans handed to a batch processor whose exporter
drops them -- both reaching in-process emulators through ``httpx.ASGITransport``, so no socket and no
other process is involved.  They answer ``deletedContacts(first: 50)`` (``bench.queries.LIST_PAGE``)
in alternating rounds, so drift of the machine hits both alike; per request the process's CPU time
(every thread, the span exporter's included) and the wall time are recorded, and the table gives the
median and mean of each, per mode, and their difference.

On a machine shared with other work that difference can still be lost in the noise, so the script
also times the added work alone (``--components``): everything observability does for one such
request -- the request record, the request, operation and two upstream spans (one a two-call
JSON-RPC batch) with their trace headers, the upstream and GraphQL metrics, the access line in JSON
-- run many times in a loop, CPU time per request including the span exporter's thread (the tracer
is shut down, so its last batch exported, inside the measured time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from bench.profiles import FAST_DAILY_QUOTA, FAST_RATE
from bench.queries import LIST_PAGE
from bench.servers import CC_TOKEN, GR_KEY
from gateway.app import create_app
from gateway.config import Settings
from gateway.core.model import Provider
from gateway.observability.access_log import log_access
from gateway.observability.logs import configure_logging
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.otel import OtelTracing
from gateway.observability.request_record import RequestRecord, close_record, note_answer, open_record
from gateway.observability.upstream import ObservedUpstream

__all__ = ["main"]


class _DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _settings(data_dir: Path, *, on: bool) -> Settings:
    return Settings(
        constant_contact_base_url="http://cc.emulator",
        constant_contact_access_token=CC_TOKEN,
        constant_contact_rate_per_second=FAST_RATE,
        constant_contact_daily_quota=FAST_DAILY_QUOTA,
        getresponse_api_url="http://gr.emulator/",
        getresponse_api_key=GR_KEY,
        data_dir=data_dir,
        metrics="open" if on else "off",
        access_log=on,
        log_format="json",
        log_level="INFO",
        # In process, no sockets: authentication is not what this compares (bench.auth measures it).
        auth_mode="off",
        principal_requests_per_minute=10**9,
        principal_daily_cost=10**12,
    )


@contextlib.asynccontextmanager
async def _gateway(data_dir: Path, contacts: int, *, on: bool) -> AsyncIterator[httpx.AsyncClient]:
    cc = create_cc(
        ConstantContactEmulatorSettings(
            seed=42, contacts=contacts, requests_per_second=FAST_RATE, daily_quota=FAST_DAILY_QUOTA
        )
    )
    gr = create_gr(GetResponseEmulatorSettings(seed=42, contacts=contacts))
    tracing = OtelTracing.exporting_to(_DroppingExporter(), service_name="bench") if on else None
    app = create_app(
        _settings(data_dir, on=on),
        constant_contact_transport=httpx.ASGITransport(cc),
        getresponse_transport=httpx.ASGITransport(gr),
        tracing=tracing,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        yield client


async def _page(client: httpx.AsyncClient) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    response = await client.post("/graphql", json={"query": LIST_PAGE, "variables": {"first": 50}})
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if response.status_code != 200 or "errors" in response.json():
        raise RuntimeError(f"the page failed: {response.text[:300]}")
    return cpu * 1000, wall * 1000


async def measure(rounds: int, per_round: int, contacts: int) -> dict[str, dict[str, list[float]]]:
    samples: dict[str, dict[str, list[float]]] = {mode: {"cpu": [], "wall": []} for mode in ("off", "on")}
    with tempfile.TemporaryDirectory(prefix="bench-obs-") as directory, open(os.devnull, "w") as sink:
        configure_logging(_settings(Path(directory), on=True), stream=sink)
        async with (
            _gateway(Path(directory) / "off", contacts, on=False) as off,
            _gateway(Path(directory) / "on", contacts, on=True) as on,
        ):
            clients = {"off": off, "on": on}
            for client in clients.values():  # warm-up: caches, first snapshot, lazy imports
                for _ in range(5):
                    await _page(client)
            for round_number in range(rounds):
                order = ("off", "on") if round_number % 2 == 0 else ("on", "off")
                for mode in order:
                    for _ in range(per_round):
                        cpu, wall = await _page(clients[mode])
                        samples[mode]["cpu"].append(cpu)
                        samples[mode]["wall"].append(wall)
    logging.getLogger().handlers.clear()
    return samples


def render(samples: dict[str, dict[str, list[float]]]) -> str:
    def row(kind: str) -> str:
        off, on = samples["off"][kind], samples["on"][kind]
        median_off, median_on = statistics.median(off), statistics.median(on)
        mean_off, mean_on = statistics.fmean(off), statistics.fmean(on)
        return (
            f"| {kind} | {len(off)} / {len(on)} | {median_off:.2f} / {median_on:.2f} | "
            f"{median_on - median_off:+.2f} | {mean_off:.2f} / {mean_on:.2f} | {mean_on - mean_off:+.2f} |"
        )

    return "\n".join(
        [
            "| per request (ms) | samples off / on | median off / on | median added "
            "| mean off / on | mean added |",
            "|---|---|---|---|---|---|",
            row("cpu"),
            row("wall"),
        ]
    )


_EXCHANGES = (
    (Provider.CONSTANT_CONTACT, "GET", ("/v3/contacts",)),
    (Provider.GETRESPONSE, "POST", ("get_contacts_deleted", "get_contacts")),
)
_TRACEPARENT = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def component_cost(iterations: int) -> float:
    """CPU milliseconds per request of observability's own work (see the module doc)."""
    metrics = GatewayMetrics()
    tracing = OtelTracing.exporting_to(_DroppingExporter(), service_name="bench")
    observer = ObservedUpstream(metrics, tracing)
    with tempfile.TemporaryDirectory() as directory, open(os.devnull, "w") as sink:
        configure_logging(_settings(Path(directory), on=True), stream=sink)
        started = time.process_time()
        for number in range(iterations):
            record = RequestRecord(f"{number:032x}", None)
            token = open_record(record)
            span = tracing.http_span("POST", "/graphql", _TRACEPARENT)
            record.trace_id = span.trace_id
            record.operation_name, record.operation_type = "Page", "query"
            with tracing.operation_span("Page", "query"):
                for provider, method, methods in _EXCHANGES:
                    exchange = observer.exchange_started(provider, method, methods, 0)
                    assert exchange.headers
                    exchange.finished(["200"] * len(methods))
            note_answer({"data": {}})
            metrics.observe_graphql(record, 0.01)
            span.end(200, "/graphql")
            log_access(record, method="POST", path="/graphql", status=200, seconds=0.01, principal="-")
            close_record(token)
        tracing.shutdown()
        elapsed = time.process_time() - started
    logging.getLogger().handlers.clear()
    return elapsed * 1000 / iterations


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.observability_cost")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=25)
    parser.add_argument("--contacts", type=int, default=1000, help="contacts per emulator (30%% deleted)")
    parser.add_argument("--components", type=int, metavar="N", help="time the added work alone, N times")
    args = parser.parse_args(argv)
    if args.components:
        print(f"observability's own work: {component_cost(args.components) * 1000:.1f} µs CPU per request")
        return 0
    samples = asyncio.run(measure(args.rounds, args.per_round, args.contacts))
    print(render(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())

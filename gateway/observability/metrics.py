"""The gateway's Prometheus metrics: one registry per application, exposed at ``/metrics``.

Counted as things happen (per request, per upstream exchange -- never per field):

- ``gateway_graphql_requests_total{operation, outcome}`` and
  ``gateway_graphql_request_duration_seconds{operation}``: every request answered with a GraphQL body
  (rejections such as 401 or 415 included, as ``outcome="error"``);
- ``gateway_graphql_errors_total{code}``: every error of those bodies, by ``extensions.code``;
- ``gateway_upstream_calls_total{provider, method, status}``: every provider call, retries included.
  ``method`` is Constant Contact's REST route template or GetResponse's JSON-RPC method; a JSON-RPC
  batch counts each of its calls, each with its own status (``rpc_error`` for a call refused inside
  a successful reply);
- ``gateway_upstream_request_duration_seconds{provider, method}``: one observation per HTTP exchange
  and method it carried -- a batch's duration is what each of its calls waited;
- ``gateway_upstream_retries_total{provider, method}``: exchanges that were a retry.
- ``gateway_sync_runs_total{provider, kind, outcome}``, ``gateway_sync_upstream_requests_total{provider,
  kind}``, ``gateway_sync_changes_total{provider, kind, change}``: every sync run of the index (backfill,
  delta, reconcile) this process led; ``gateway_sync_repaired_total{provider}``: rows a reconcile found
  the deltas had missed.

Read when scraped, from the live services (nothing to keep in step):

- ``gateway_upstream_breaker_state{provider, state}``: 1 for the breaker's current state, 0 for the others;
- ``gateway_upstream_daily_budget_remaining{provider}`` / ``..._limit{provider}``: Constant Contact's quota;
- ``gateway_paging_snapshot_entries``: entries held by the in-memory snapshot store;
- ``gateway_index_contacts{provider}`` and ``gateway_index_lag_seconds{provider}``: the index's deleted
  contacts and how long ago each provider was last synced, as this replica last read its sync state;
- ``gateway_answer_cache_lookups_total{outcome}`` (hit, miss) and ``gateway_answer_cache_bytes``: the
  reuse of answers the index gave (``ANSWER_CACHE``).

Label values are bounded: operation names are the first ``operation_name_limit`` distinct names
seen (later ones count as ``other``; a nameless operation is ``anonymous``), methods are the
clients' own routes and methods, error codes are checked against the shape of the gateway's codes.

Several workers: each process keeps its own registry (breakers, budgets and snapshots are
per-process state too), so run one process per replica and scrape every replica.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.core.audit import AuditEvent
from gateway.core.model import Provider
from gateway.core.services import Services
from gateway.core.snapshots import MemorySnapshotStore
from gateway.sync import SyncReport

from .request_record import RequestRecord

__all__ = ["ANONYMOUS", "BREAKER_STATES", "OTHER", "GatewayMetrics", "OperationNames"]

ANONYMOUS = "anonymous"
OTHER = "other"
BREAKER_STATES = ("closed", "half_open", "open")
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class OperationNames:
    """Operation names as label values: at most ``limit`` distinct ones, then ``other``.

    The first names seen keep their own series; a caller sending endless distinct names cannot grow
    the registry (each name would otherwise be a new time series in every scrape, forever).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS
        if name in self._known:
            return name
        if not _OPERATION_NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if len(self._known) < self.limit:
                self._known.add(name)
                return name
        return OTHER


class GatewayMetrics:
    """The metrics of one application (its own registry: two applications in a process do not mix)."""

    def __init__(self, *, operation_name_limit: int = 100) -> None:
        self.registry = CollectorRegistry()
        self.operation_names = OperationNames(operation_name_limit)
        registry = self.registry
        self.graphql_requests = Counter(
            "gateway_graphql_requests",
            "GraphQL requests answered, by operation name and outcome (ok, partial, error).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.graphql_duration = Histogram(
            "gateway_graphql_request_duration_seconds",
            "Time from a GraphQL request's arrival to its answer, by operation name.",
            ["operation"],
            registry=registry,
        )
        self.graphql_errors = Counter(
            "gateway_graphql_errors",
            "Errors in GraphQL answers, by extensions.code.",
            ["code"],
            registry=registry,
        )
        self.upstream_calls = Counter(
            "gateway_upstream_calls",
            "Provider calls (a JSON-RPC batch counts each call), by provider, method and status.",
            ["provider", "method", "status"],
            registry=registry,
        )
        self.upstream_duration = Histogram(
            "gateway_upstream_request_duration_seconds",
            "Duration of provider HTTP exchanges, by provider and method carried.",
            ["provider", "method"],
            registry=registry,
        )
        self.audit_events = Counter(
            "gateway_audit_events",
            "Audit events written, by mutation and phase (intent before an upstream write, outcome).",
            ["operation", "phase"],
            registry=registry,
        )
        self.upstream_retries = Counter(
            "gateway_upstream_retries",
            "Provider exchanges that were a retry of a failed attempt, by provider and method.",
            ["provider", "method"],
            registry=registry,
        )

        self.sync_runs = Counter(
            "gateway_sync_runs",
            "Sync runs of the index this process led, by provider, kind and outcome (ok, failed).",
            ["provider", "kind", "outcome"],
            registry=registry,
        )
        self.sync_requests = Counter(
            "gateway_sync_upstream_requests",
            "Upstream HTTP requests the index's sync made, by provider and kind.",
            ["provider", "kind"],
            registry=registry,
        )
        self.sync_changes = Counter(
            "gateway_sync_changes",
            "Index rows the sync changed, by provider, kind and change (inserted, updated, removed).",
            ["provider", "kind", "change"],
            registry=registry,
        )
        self.sync_repaired = Counter(
            "gateway_sync_repaired",
            "Index rows a reconcile repaired: changes the deltas had missed, by provider.",
            ["provider"],
            registry=registry,
        )

    # -- as things happen ----------------------------------------------------------------------

    def observe_graphql(self, record: RequestRecord, seconds: float) -> None:
        """A request answered with a GraphQL body (``record.outcome`` set)."""
        operation = self.operation_names.label(record.operation_name)
        self.graphql_requests.labels(operation, record.outcome or "error").inc()
        self.graphql_duration.labels(operation).observe(seconds)
        for code in record.error_codes:
            self.graphql_errors.labels(code if _ERROR_CODE.fullmatch(code) else OTHER).inc()

    def observe_upstream(
        self,
        provider: Provider,
        methods: Sequence[str],
        statuses: Sequence[str],
        retry_number: int,
        seconds: float,
    ) -> None:
        name = provider.value
        for method, status in zip(methods, statuses, strict=True):
            self.upstream_calls.labels(name, method, status).inc()
        for method in dict.fromkeys(methods):
            self.upstream_duration.labels(name, method).observe(seconds)
            if retry_number:
                self.upstream_retries.labels(name, method).inc()

    def observe_audit(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self.audit_events.labels(event.operation, event.phase.value).inc()

    def observe_sync(self, report: SyncReport) -> None:
        provider, kind = report.provider.value, report.kind.value
        self.sync_runs.labels(provider, kind, "ok").inc()
        self.sync_requests.labels(provider, kind).inc(report.requests)
        changes = report.changes
        for change, count in (
            ("inserted", changes.inserted),
            ("updated", changes.updated),
            ("removed", changes.removed),
        ):
            self.sync_changes.labels(provider, kind, change).inc(count)
        if report.repaired:
            self.sync_repaired.labels(provider).inc(report.repaired)

    def observe_sync_failure(self, provider: Provider, kind: str) -> None:
        self.sync_runs.labels(provider.value, kind, "failed").inc()

    # -- when scraped --------------------------------------------------------------------------

    def watch(self, services: Callable[[], Services | None]) -> None:
        """Report the state of ``services()`` (None while the application is not started) when scraped."""
        self.registry.register(_ServicesCollector(services))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _ServicesCollector(Collector):
    def __init__(self, services: Callable[[], Services | None]) -> None:
        self._services = services

    def describe(self) -> list[Metric]:
        # Without a description the registry would collect() at registration, before any service exists.
        return []

    def collect(self) -> Iterator[Metric]:
        breaker = GaugeMetricFamily(
            "gateway_upstream_breaker_state",
            "1 for the provider circuit breaker's current state (closed, half_open, open), else 0.",
            labels=["provider", "state"],
        )
        remaining = GaugeMetricFamily(
            "gateway_upstream_daily_budget_remaining",
            "Calls left in the provider's daily quota (Constant Contact), in this process.",
            labels=["provider"],
        )
        limit = GaugeMetricFamily(
            "gateway_upstream_daily_budget_limit",
            "The provider's daily quota (Constant Contact).",
            labels=["provider"],
        )
        snapshot_entries = GaugeMetricFamily(
            "gateway_paging_snapshot_entries",
            "Listing entries held in this process's paging snapshots (in-memory store only).",
        )
        index_contacts = GaugeMetricFamily(
            "gateway_index_contacts",
            "Deleted contacts in the synced index, by provider (as this replica last read the sync state).",
            labels=["provider"],
        )
        index_lag = GaugeMetricFamily(
            "gateway_index_lag_seconds",
            "Seconds since the provider's part of the index was last synced.",
            labels=["provider"],
        )
        answers = CounterMetricFamily(
            "gateway_answer_cache_lookups",
            "Queries that could reuse an answer the index gave (ANSWER_CACHE), by outcome: hit or miss.",
            labels=["outcome"],
        )
        answer_bytes = GaugeMetricFamily(
            "gateway_answer_cache_bytes", "Encoded bytes of the answers this replica holds for reuse."
        )
        services = self._services()
        if services is not None and services.answers is not None:
            answers.add_metric(["hit"], float(services.answers.hits))
            answers.add_metric(["miss"], float(services.answers.misses))
            answer_bytes.add_metric([], float(services.answers.held_bytes))
        if services is not None and services.index is not None:
            now = time.time()
            for provider, sync_state in services.index.last_states.items():
                index_contacts.add_metric([provider.value], float(sync_state.contacts))
                if sync_state.synced_at is not None:
                    lag = max(0.0, now - sync_state.synced_at.timestamp())
                    index_lag.add_metric([provider.value], lag)
        if services is not None:
            for provider, port in services.ports.items():
                health = port.health()
                for state in BREAKER_STATES:
                    breaker.add_metric([provider.value, state], 1.0 if health.circuit_state == state else 0.0)
                if health.budget_remaining is not None:
                    remaining.add_metric([provider.value], float(health.budget_remaining))
                if health.budget_limit is not None:
                    limit.add_metric([provider.value], float(health.budget_limit))
            if isinstance(services.snapshots, MemorySnapshotStore):
                snapshot_entries.add_metric([], float(services.snapshots.entries_held))
        yield breaker
        yield remaining
        yield limit
        yield snapshot_entries
        yield index_contacts
        yield index_lag
        yield answers
        yield answer_bytes

"""The pure parts of the comparison with Hive Gateway (``bench/peer``): the workloads' queries, the
numbers derived from a run, the targets' verdicts and the Markdown section.  No processes, no network:
``make bench-peer`` runs the real thing."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import FieldNode, OperationDefinitionNode, build_schema, parse, validate

from bench.peer.hivelog import error_causes
from bench.peer.measure import Cell, Measurement, Row, ratio, targets, throttled, upstream_requests
from bench.peer.report import TITLE, BurstResult, Report, render
from bench.peer.workloads import Inputs, contacts_in_answer, cursor_from_href, peer_lookup_query, workloads

ROOT = Path(__file__).resolve().parents[2]
INPUTS = Inputs("ours-cursor", "cc-cursor", [f"person{n}@example.org" for n in range(50)])


def _row(p50: float, upstream: float = 0.0, throttled_count: int = 0, errors: int = 0) -> Row:
    samples = ('{"errors":[{"message":"Unexpected error."}]}',) * min(errors, 3)
    return Row(p50, p50 * 2, 100.0, 1.0, upstream, throttled_count, 10, errors, samples)


def test_cursor_from_href_reads_constant_contacts_next_link() -> None:
    assert cursor_from_href("/v3/contacts?cursor=c3RhdHVz&x=1") == "c3RhdHVz"
    assert cursor_from_href(None) is None
    assert cursor_from_href("") is None
    assert cursor_from_href("/v3/contacts?limit=50") is None


def test_peer_lookup_asks_each_provider_once_per_address() -> None:
    document = parse(peer_lookup_query(3))
    (operation,) = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    fields = [field for field in operation.selection_set.selections if isinstance(field, FieldNode)]
    assert len(fields) == 6
    aliases = [field.alias.value for field in fields if field.alias]
    assert aliases == ["c0", "g0", "c1", "g1", "c2", "g2"]
    declared = operation.variable_definitions or ()
    assert [v.variable.name.value for v in declared] == ["e0", "e1", "e2"]


def test_our_queries_are_valid_against_our_schema_and_the_peers_parse() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    loads = workloads(INPUTS)
    assert [w.key for w in loads] == ["cc-first", "both-first", "cc-later", "gr-filtered", "lookup"]
    for workload in loads:
        assert validate(schema, parse(workload.ours["query"])) == [], workload.key
        parse(workload.peer["query"])
        assert workload.differs
    later = {w.key: w for w in loads}["cc-later"]
    assert later.ours["variables"]["after"] == "ours-cursor"
    assert later.peer["variables"] == {"cursor": "cc-cursor"}
    lookup = {w.key: w for w in loads}["lookup"]
    assert lookup.ours["variables"]["emails"] == INPUTS.emails
    assert lookup.peer["variables"]["e49"] == "person49@example.org"


def test_each_side_is_sent_its_own_query_and_both_processes_of_ours_the_same() -> None:
    for workload in workloads(INPUTS):
        assert workload.body("ours") is workload.ours and workload.body("plain") is workload.ours
        assert workload.body("peer") is workload.peer


def test_contacts_in_answer_counts_both_sides_shapes() -> None:
    ours_page: dict[str, Any] = {"deletedContacts": {"edges": [{"node": {}}] * 3, "pageInfo": {}}}
    ours_lookup = {"deletedContactsByEmail": [{"deletedContacts": [{}, {}]}, {"deletedContacts": []}]}
    peer = {
        "cc": {"contacts": [{}] * 4, "_links": {}},
        "gr": {"result": {"a": {}, "b": {}}, "error": None},
        "g7": {"result": None},
    }
    assert contacts_in_answer(ours_page) == 3
    assert contacts_in_answer(ours_lookup) == 2
    assert contacts_in_answer(peer) == 6


def test_emulator_counts_give_upstream_requests_and_429s() -> None:
    cc = {"http_requests": 7, "operations": {"getContacts": 3, "throttled": 4}}
    gr = {"http_requests": 2, "operations": {}}
    assert upstream_requests([cc, gr]) == 9
    assert throttled(cc) == 4
    assert throttled({"operations": {"quota_exceeded": 2}}) == 2
    assert throttled(gr) == 0


def test_measurement_pools_rounds_into_per_request_numbers() -> None:
    measurement = Measurement()
    for latencies in ([10.0, 20.0, 30.0], [40.0]):
        measurement.add(
            latencies_ms=latencies,
            errors=1,
            error_samples=["HTTP 502"],
            wall_s=1.0,
            server_cpu_s=0.05,
            upstream=10,
            throttled=1,
        )
    row = measurement.row()
    assert (row.answered, row.errors) == (4, 2)
    assert row.p50 == pytest.approx(25.0)
    assert row.rps == pytest.approx(2.0)  # answered per second of the windows added up
    assert row.cpu_ms == pytest.approx(100 / 6)  # 0.1 s over 6 requests sent
    assert row.upstream_per_request == pytest.approx(20 / 6)
    assert row.throttled == 2
    assert measurement.error_samples == ["HTTP 502", "HTTP 502"]
    assert math.isnan(Measurement().row().cpu_ms)


def test_ratio_is_ours_over_peer_and_nan_without_a_peer_number() -> None:
    assert ratio(5.0, 20.0) == 0.25
    assert math.isnan(ratio(5.0, 0.0))
    assert math.isnan(ratio(math.nan, 3.0))


def test_targets_report_every_miss_and_count_our_429s_in_bursts() -> None:
    rows = {
        Cell("cc-first", 1, 0.0): {"ours": _row(4.0), "peer": _row(10.0, upstream=1.0)},
        Cell("cc-first", 16, 0.0): {"ours": _row(6.0, upstream=2.0), "peer": _row(10.0, upstream=1.0)},
    }
    burst = {"first page": {"ours": _row(1.0, throttled_count=2), "peer": _row(1.0, throttled_count=9)}}
    verdict = targets(rows, burst)
    assert not verdict.p50_ratio_met
    assert verdict.p50_ratio_misses == ["cc-first c=16 0 ms: 0.60"]
    assert not verdict.upstream_met
    assert verdict.upstream_misses == ["cc-first c=16 0 ms: 2.00 > 1.00"]
    assert (verdict.no_429_met, verdict.our_429s) == (False, 2)
    good = targets({Cell("cc-first", 1, 0.0): rows[Cell("cc-first", 1, 0.0)]}, {})
    assert good.p50_ratio_met and good.upstream_met and good.no_429_met


def test_render_writes_the_section_with_tables_and_verdicts() -> None:
    loads = workloads(INPUTS)
    rows = {
        Cell(w.key, c, latency): {"ours": _row(5.0), "plain": _row(9.0), "peer": _row(8.0, upstream=1.0)}
        for w in loads
        for c in (1, 16)
        for latency in (0.0, 50.0)
    }
    rows[Cell("lookup", 16, 0.0)]["peer"] = _row(8.0, upstream=100.0, errors=2)
    bursts = [
        BurstResult("first page", "ours", 16, 16, 0, 0, 0, 20.0, 30.0, []),
        BurstResult("first page", "peer", 16, 5, 11, 16, 11, 20.0, 30.0, ["11x HTTP Error: 429 | x"]),
    ]
    report = Report(
        started=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        command="python -m bench.peer",
        elapsed_s=300.0,
        load_before=(1.0, 1.0, 1.0),
        load_after=(2.0, 2.0, 2.0),
        plan_text="a plan",
        workloads=loads,
        returned={w.key: {"ours": 50, "peer": 60} for w in loads},
        rows=rows,
        bursts=bursts,
        peer_log_errors={"GetResponse: socket hang up": 7},
    )
    text = render(report)
    assert text.startswith(TITLE + "\n")
    assert "in 5.0 min (`npm ci` of the peer skipped: the pinned packages were installed, composition" in text
    fresh = render(Report(**{**report.__dict__, "install_s": 126.4}))
    assert "in 5.0 min (`npm ci` of the peer included: 126 s, composition included)" in fresh
    assert "### Upstream latency 0 ms" in text and "### Upstream latency 50 ms" in text
    assert "| first page, Constant Contact | 1 | 5.0 / 8.0 | **0.62** |" in text
    assert "| lookup of 50 addresses | 50 / 60 |" in text
    assert "11x HTTP Error: 429 / x" in text  # a pipe in a sample would break the table
    assert "for every workload (both latencies): **NOT MET**" in text
    assert "at most the peer's upstream requests for every workload: **met**" in text
    assert "zero 429s on our side: **met** (0 seen)" in text
    assert "- peer, lookup of 50 addresses, c=16, 0 ms: 2 failed; the first as the client saw it: `{" in text
    assert "failed fields by subgraph and cause: 7x `GetResponse: socket hang up`" in text
    assert "- ours," not in text
    # Ours without reused answers, its own table: reused / computed, then computed over the peer.
    assert "### Ours without reused answers (`ANSWER_CACHE=false`)" in text
    assert "| first page, Constant Contact | 1 | 0 | 5.0 / 9.0 | **1.12** |" in text


def test_hive_log_errors_are_counted_by_subgraph_and_cause() -> None:
    log = (
        "\x1b[90m2026-12-03T09:14:24.293Z\x1b[0m \x1b[32mINF\x1b[0m Listening on http://127.0.0.1:1\n"
        + (
            "\x1b[90m2026-12-03T09:15:05.817Z\x1b[0m \x1b[41;39mERR\x1b[0m \n"
            '  \x1b[35mmessage:\x1b[0m "socket hang up"\n'
            '  path: [\n    "g0"\n  ]\n  extensions: {\n    code: "DOWNSTREAM_SERVICE_ERROR"\n'
            '    serviceName: "GetResponse"\n  }\n'
        )
        * 2
        + '2026-12-03T09:15:06.000Z ERR \n  message: "boom"\n'
        + "2026-12-03T09:19:36.989Z INF Stopping the WebSocket server\n"
    )
    assert error_causes(log) == {"GetResponse: socket hang up": 2, "boom": 1}
    assert error_causes("2026-12-03T09:14:24.293Z INF Listening\n") == {}

"""The benchmark harness cannot rot silently: its ``--quick`` run must finish and report every section.

The smoke test runs ``python -m bench.run --quick`` as ``make bench`` would (real emulator and gateway
processes, the load generator in its own process) and checks that the report has the header facts and
every section with numbers in it.  The small tests pin the harness's own pieces: percentiles, the
operation renaming that defeats the caches, field counting, ``/proc`` readings and the raw HTTP client
the load generator uses.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.emulator_speed import CC_PAGES, GR_CONDITIONS, measure, render
from bench.harness import pool_runs
from bench.load import renamed
from bench.procfs import cpu_seconds, memory_kib, reset_peak_memory
from bench.rawhttp import RawConnection
from bench.report import SECTION_TITLES
from bench.sections.profile import count_fields
from bench.stats import percentile, summarize
from gateway.serving import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"\d")


def _sections(report: str) -> dict[str, str]:
    parts = re.split(r"^## ", report, flags=re.MULTILINE)
    return {part.splitlines()[0].strip(): part for part in parts[1:]}


def _table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in ``text`` (header and separator rows left out)."""
    lines = text.splitlines()
    rows = []
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if line.startswith("|") and not line.startswith("|---") and not following.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_quick_run_reports_every_section_with_numbers(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = output.read_text()
    sections = _sections(report)

    for title in ("Targets", "Machine", "Versions", *SECTION_TITLES):
        assert title in sections, f"missing section {title!r}"
    header = report.split("## Targets")[0]
    assert "python -m bench.run --quick" in header
    assert re.search(r"\| date \| \d{4}-\d\d-\d\d \d\d:\d\d UTC \|", header)
    assert re.search(r"\| CPU \| \S", sections["Machine"])
    assert re.search(r"\| cores \| \d+ usable", sections["Machine"])
    assert re.search(r"\| RAM \| [\d.]+ GiB", sections["Machine"])
    for package in ("python", "strawberry-graphql", "graphql-core", "uvicorn", "httpx"):
        assert re.search(rf"\| {package} \| \d+\.\d+", sections["Versions"]), package

    targets = _table_rows(sections["Targets"])
    assert len(targets) == 3
    assert all(row[1] in ("yes", "**NO**") and NUMBER.search(row[2]) for row in targets)

    amplification = _table_rows(sections["1. Upstream amplification"])
    assert len(amplification) == 7
    for row in amplification:
        assert all(re.fullmatch(r"\d+ / \d+", cell) for cell in row[1:4]), row

    overhead = _table_rows(sections["2. Overhead"])
    assert len(overhead) == 6  # 2 upstream latencies x 3 concurrencies
    for row in overhead:
        assert re.fullmatch(r"[\d.,]+ / [\d.,]+ / [\d.,]+", row[3]), row  # gateway p50 / p95 / p99
        assert re.fullmatch(r"[\d.,]+ / [\d.,]+ / [\d.,]+", row[4]), row  # direct p50 / p95 / p99

    throughput = _table_rows(sections["3. Throughput"])
    assert len(throughput) == 4
    assert all(float(row[1].replace(",", "")) > 0 and row[4] == "0" for row in throughput)
    assert "Cache effect" in sections["3. Throughput"]

    size_rows = _table_rows(sections["4. Size"])
    assert [row[0] for row in size_rows[:2]] == ["50", "500 (the cap)"]
    assert any(row[0].startswith("every deleted contact") for row in size_rows)
    assert all(NUMBER.search(cell) for row in size_rows for cell in row[1:])

    (burst,) = _table_rows(sections["5. Rate-limit efficiency"])
    assert int(burst[1]) > 4  # more Constant Contact calls than one second allows
    assert burst[6] == "0"  # no 429

    profile = sections["Profile"]
    assert profile.count("### Profile:") == 3
    assert re.search(r"[\d.]+ µs per field", profile)
    assert re.search(r"\| `\w+` \| `[^`]+` \|", profile)  # a table of functions


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    summary = summarize([3.0, 1.0, 2.0])
    assert (summary.count, summary.p50, summary.max) == (3, 2.0, 3.0)
    assert summarize([]).count == 0


def test_alternating_rounds_pool_into_one_result_per_label_and_concurrency() -> None:
    def raw(label: str, concurrency: int, latencies: list[float], cpu: float) -> dict[str, object]:
        return {
            "label": label, "concurrency": concurrency, "completed": len(latencies), "errors": 0,
            "error_samples": [], "latencies_ms": latencies, "bytes": 10 * len(latencies), "wall_s": 1.0,
            "throughput_rps": float(len(latencies)), "cpu_s": {"gateway": cpu},
        }  # fmt: skip

    rounds = [
        raw("gateway", 1, [1.0, 2.0], 0.5),
        raw("direct", 1, [3.0], 0.1),
        raw("gateway", 1, [4.0], 0.25),
    ]
    rounds += [raw("gateway", 8, [9.0], 1.0)]
    gateway, direct, wider = pool_runs(rounds)
    assert (gateway["label"], gateway["concurrency"], direct["label"], wider["concurrency"]) == (
        "gateway", 1, "direct", 8,
    )  # fmt: skip
    assert gateway["latencies_ms"] == [1.0, 2.0, 4.0] and gateway["completed"] == 3
    assert (
        gateway["wall_s"] == 2.0
        and gateway["throughput_rps"] == 1.5
        and gateway["cpu_s"] == {"gateway": 0.75}
    )
    assert rounds[0]["latencies_ms"] == [1.0, 2.0]  # the inputs are left alone


def test_renamed_gives_every_operation_its_own_name() -> None:
    assert renamed("{ providers { provider } }", "Q1") == "query Q1 { providers { provider } }"
    assert renamed("query Page($first: Int!) { a }", "Q2") == "query Q2($first: Int!) { a }"
    assert renamed("query($ids: [ID!]!) { nodes }", "Q3") == "query Q3($ids: [ID!]!) { nodes }"
    assert renamed("mutation M { x }", "Q4") == "mutation Q4 { x }"


def test_count_fields_counts_every_key_of_every_object() -> None:
    data = {"page": {"edges": [{"node": {"id": 1, "email": "a"}}, {"node": {"id": 2, "email": "b"}}]}}
    assert count_fields(data) == 2 + 2 * (1 + 2)


def test_procfs_reads_this_process() -> None:
    before = cpu_seconds(os.getpid())
    sum(range(2_000_000))
    assert cpu_seconds(os.getpid()) > before
    memory = memory_kib(os.getpid())
    assert memory["peak"] >= memory["rss"] > 0
    if reset_peak_memory(os.getpid()):
        assert memory_kib(os.getpid())["peak"] <= memory["peak"]


def _raw_http_app() -> Starlette:
    async def echo(request: Request) -> Response:
        return JSONResponse({"got": (await request.body()).decode()})

    async def chunked(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"ab", b"cd", b"ef"):
                yield part

        return StreamingResponse(parts())

    async def closing(request: Request) -> Response:
        return Response(b"bye", headers={"connection": "close"})

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/chunked", chunked),
            Route("/closing", closing),
        ]
    )


async def test_raw_connection_keeps_alive_reads_chunks_and_reconnects() -> None:
    with BackgroundServer(_raw_http_app()) as server:
        connection = RawConnection(server.host, server.port)
        try:
            for text in ("one", "two"):
                status, body = await connection.request("POST", "/echo", text.encode())
                assert (status, body) == (200, b'{"got":"' + text.encode() + b'"}')
            assert await connection.request("GET", "/chunked") == (200, b"abcdef")
            assert await connection.request("GET", "/closing") == (200, b"bye")
            assert (await connection.request("GET", "/missing"))[0] == 404  # a new connection
        finally:
            await connection.close()
        with pytest.raises(OSError):
            await RawConnection(server.host, 1).request("GET", "/")
        await asyncio.sleep(0)


async def test_the_emulator_speed_bench_measures_every_read_it_names() -> None:
    timings = await measure(contacts=600, repeats=1)
    expected = [f"CC page of 500 [{name}]" for name in CC_PAGES]
    expected.append("CC listing of every deleted contact")
    expected += [f"GR get_contacts_deleted [{n}, {e}]" for n in GR_CONDITIONS for e in ("identity", "gzip")]
    assert [t.name for t in timings] == expected
    assert all(t.median_ms >= 0 and t.target_ms > 0 for t in timings)
    listing = next(t for t in timings if t.name.startswith("CC listing"))
    assert listing.items == 204  # 34% of 600 contacts are deleted
    table = render(timings, 600, 1)
    assert all(f"| {t.name} | {t.items:,} |" in table for t in timings)


def test_a_new_report_keeps_the_sections_measured_by_other_commands(tmp_path: Path) -> None:
    from bench.run import KEPT_MARKER, kept_sections

    report = tmp_path / "BENCHMARKS.md"
    assert kept_sections(report) == ""  # no report yet
    report.write_text("# old generated part\n")
    assert kept_sections(report) == ""  # nothing marked to keep
    report.write_text(f"# old generated part\n{KEPT_MARKER}\n\n## LIKE matcher\nworst 0.4 ms\n")
    kept = kept_sections(report)
    assert kept.startswith(f"\n{KEPT_MARKER}") and kept.endswith("worst 0.4 ms\n")
    assert "old generated part" not in kept

"""What every section shares: the run's settings, one HTTP client, progress output, the load generator.

A section is ``async def run(context, ...) -> SectionResult``: Markdown for the report plus the verdicts
on the targets it checks (the summary at the top of the report collects them).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.profiles import Profile
from bench.stats import LatencySummary, summarize

__all__ = ["Context", "LoadResult", "SectionResult", "Verdict", "fmt", "table"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    met: bool
    detail: str


@dataclass
class SectionResult:
    key: str
    title: str
    body: str
    verdicts: list[Verdict] = field(default_factory=list)
    facts: dict[str, float] = field(default_factory=dict)
    """Numbers later sections use (e.g. the gateway's CPU per request without a profiler)."""


@dataclass(frozen=True)
class LoadResult:
    label: str
    concurrency: int
    completed: int
    errors: int
    error_samples: list[str]
    latency: LatencySummary
    bytes: int
    wall_s: float
    throughput_rps: float
    cpu_s: dict[str, float]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LoadResult:
        return cls(
            label=raw["label"],
            concurrency=raw["concurrency"],
            completed=raw["completed"],
            errors=raw["errors"],
            error_samples=raw["error_samples"],
            latency=summarize(raw["latencies_ms"]),
            bytes=raw["bytes"],
            wall_s=raw["wall_s"],
            throughput_rps=raw["throughput_rps"],
            cpu_s=raw["cpu_s"],
        )

    def cores(self, process: str) -> float:
        """Average CPU cores ``process`` used during the measured window."""
        return self.cpu_s.get(process, math.nan) / self.wall_s if self.wall_s > 0 else math.nan


class Context:
    def __init__(self, profile: Profile, client: httpx.AsyncClient, work_dir: Path) -> None:
        self.profile = profile
        self.client = client
        self.work_dir = work_dir
        self.started = time.monotonic()
        self._spec_numbers = itertools.count(1)

    def progress(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[bench {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    async def load(
        self,
        runs: Sequence[dict[str, Any]],
        *,
        watch: dict[str, int],
        direct: dict[str, Any] | None = None,
        pool: bool = False,
    ) -> list[LoadResult]:
        """Run ``runs`` in a fresh load-generator process (``bench.load``) and return their results;
        with ``pool``, runs of the same label and concurrency come back as one (:func:`pool_runs`)."""
        raw_results = await self.load_raw(runs, watch=watch, direct=direct)
        return [LoadResult.from_json(raw) for raw in (pool_runs(raw_results) if pool else raw_results)]

    async def load_raw(
        self, runs: Sequence[dict[str, Any]], *, watch: dict[str, int], direct: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """:meth:`load`'s results as the load generator wrote them, latencies included (for callers
        that pool them over rounds themselves)."""
        number = next(self._spec_numbers)
        spec_path = self.work_dir / f"load-{number}.json"
        result_path = self.work_dir / f"load-{number}.result.json"
        log_path = self.work_dir / f"load-{number}.log"
        spec_path.write_text(json.dumps({"runs": list(runs), "watch": watch, "direct": direct or {}}))
        with open(log_path, "wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.load", str(spec_path), str(result_path), cwd=ROOT, stderr=log
            )
            code = await process.wait()
        if code != 0:
            raise RuntimeError(f"load generator failed ({code}):\n{log_path.read_text()[-3000:]}")
        raw_results: list[dict[str, Any]] = json.loads(result_path.read_text())
        return raw_results


def pool_runs(raw_results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Raw results of the same label and concurrency merged into one, in order of first appearance.

    Two things compared in alternating short rounds (gateway, direct, gateway, direct, ...) see the
    same drift of a shared machine; one long run of each would put any drift into their difference.
    """
    pooled: dict[tuple[str, int], dict[str, Any]] = {}
    for raw in raw_results:
        key = (raw["label"], raw["concurrency"])
        into = pooled.get(key)
        if into is None:
            pooled[key] = {**raw, "latencies_ms": list(raw["latencies_ms"]), "cpu_s": dict(raw["cpu_s"]),
                           "error_samples": list(raw["error_samples"])}  # fmt: skip
            continue
        for name in ("completed", "errors", "bytes", "wall_s"):
            into[name] += raw[name]
        into["latencies_ms"] += raw["latencies_ms"]
        into["error_samples"] += raw["error_samples"]
        for process, seconds in raw["cpu_s"].items():
            into["cpu_s"][process] = into["cpu_s"].get(process, 0.0) + seconds
    for result in pooled.values():
        result["throughput_rps"] = result["completed"] / result["wall_s"] if result["wall_s"] > 0 else 0.0
    return list(pooled.values())


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

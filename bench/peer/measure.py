"""What one side did in one cell (workload, concurrency, upstream latency), pooled over rounds, and the
numbers the report derives from it: percentiles, rate, CPU and upstream requests per request, ratios,
and the issue's targets.  Pure: no processes, no network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.stats import summarize

__all__ = [
    "PLAIN",
    "SIDES",
    "TIMED_SIDES",
    "Cell",
    "Measurement",
    "Row",
    "Targets",
    "ratio",
    "targets",
    "throttled",
    "upstream_requests",
]

SIDES = ("ours", "peer")
"""The two sides the issue compares (ours with its defaults, reused answers included)."""
PLAIN = "plain"
"""Ours again, a second process on the same database with ``ANSWER_CACHE=false``: every query runs."""
TIMED_SIDES = ("ours", PLAIN, "peer")


def upstream_requests(counts: Iterable[Mapping[str, Any]]) -> int:
    """HTTP requests the emulators served (``/_emulator/requests`` of each), 429s included."""
    return sum(int(count.get("http_requests", 0)) for count in counts)


def throttled(cc_counts: Mapping[str, Any]) -> int:
    """429s Constant Contact's emulator answered (rate ``throttled`` and daily ``quota_exceeded``)."""
    operations = cc_counts.get("operations", {})
    return int(operations.get("throttled", 0)) + int(operations.get("quota_exceeded", 0))


@dataclass(frozen=True, slots=True)
class Cell:
    workload: str
    concurrency: int
    latency_ms: float


@dataclass
class Measurement:
    """One side in one cell, accumulated over the rounds (each round: ``sent`` requests, all answered)."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    sent: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    upstream: int = 0
    throttled: int = 0

    def add(
        self,
        *,
        latencies_ms: list[float],
        errors: int,
        error_samples: list[str],
        wall_s: float,
        server_cpu_s: float,
        upstream: int,
        throttled: int,
    ) -> None:
        self.latencies_ms += latencies_ms
        self.errors += errors
        self.error_samples += error_samples[: max(0, 3 - len(self.error_samples))]
        self.sent += len(latencies_ms) + errors
        self.wall_s += wall_s
        self.server_cpu_s += server_cpu_s
        self.upstream += upstream
        self.throttled += throttled

    def row(self) -> Row:
        summary = summarize(self.latencies_ms)
        answered = len(self.latencies_ms)
        return Row(
            p50=summary.p50,
            p95=summary.p95,
            rps=answered / self.wall_s if self.wall_s > 0 else math.nan,
            cpu_ms=self.server_cpu_s * 1000 / self.sent if self.sent else math.nan,
            upstream_per_request=self.upstream / self.sent if self.sent else math.nan,
            throttled=self.throttled,
            answered=answered,
            errors=self.errors,
            error_samples=tuple(self.error_samples),
        )


@dataclass(frozen=True, slots=True)
class Row:
    p50: float
    p95: float
    rps: float
    """Answered requests per second of wall time (the rounds' windows added up)."""
    cpu_ms: float
    """Server CPU (user + system, from /proc) per request sent, in ms."""
    upstream_per_request: float
    throttled: int
    answered: int
    errors: int
    error_samples: tuple[str, ...] = ()
    """The first few failures as the client saw them."""


def ratio(ours: float, peer: float) -> float:
    """ours / peer; NaN when either is missing or the peer's is zero."""
    if math.isnan(ours) or math.isnan(peer) or peer == 0:
        return math.nan
    return ours / peer


@dataclass(frozen=True, slots=True)
class Targets:
    p50_ratio_met: bool
    p50_ratio_misses: list[str]
    upstream_met: bool
    upstream_misses: list[str]
    no_429_met: bool
    our_429s: int


def targets(
    rows: Mapping[Cell, Mapping[str, Row]], burst: Mapping[str, Mapping[str, Row]], *, limit: float = 0.5
) -> Targets:
    """The issue's targets over every measured cell: ours/peer p50 under ``limit``; at most the peer's
    upstream requests per request; zero 429s on our side (the bursts included)."""
    p50_misses: list[str] = []
    upstream_misses: list[str] = []
    our_429s = 0
    for cell, sides in rows.items():
        ours, peer = sides["ours"], sides["peer"]
        name = f"{cell.workload} c={cell.concurrency} {cell.latency_ms:g} ms"
        r = ratio(ours.p50, peer.p50)
        if math.isnan(r) or r >= limit:
            p50_misses.append(f"{name}: {r:.2f}")
        if not ours.upstream_per_request <= peer.upstream_per_request:
            upstream_misses.append(
                f"{name}: {ours.upstream_per_request:.2f} > {peer.upstream_per_request:.2f}"
            )
        our_429s += ours.throttled
    for sides in burst.values():
        our_429s += sides["ours"].throttled
    return Targets(
        p50_ratio_met=not p50_misses,
        p50_ratio_misses=p50_misses,
        upstream_met=not upstream_misses,
        upstream_misses=upstream_misses,
        no_429_met=our_429s == 0,
        our_429s=our_429s,
    )

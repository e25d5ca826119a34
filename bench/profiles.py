"""How big and how long: the full benchmark (``make bench``) and the ``--quick`` smoke version.

The full profile is sized to finish in well under ten minutes on a 2-core machine; ``--quick`` keeps
every section and every kind of number but shrinks accounts, durations and bursts so the harness test
finishes in well under a minute.  Only the sizes differ, never the method.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "QUICK", "Profile"]

FAST_RATE = 10_000.0
"""Constant Contact requests/s for the sections that must not measure the 4/s limit (emulator and
gateway limiter both)."""
FAST_DAILY_QUOTA = 10_000_000
"""Daily quota for those sections: the load tests make far more than the real 10,000 calls a day."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    seed: int
    standard_contacts: int
    """Contacts per emulator for the overhead and throughput sections (30% deleted)."""
    large_contacts: int
    """Contacts per emulator for the size and amplification sections (``large_deleted_fraction``)."""
    large_deleted_fraction: float
    min_samples: int
    """Answers every measured window collects at least (it stays open longer if needed)."""
    overhead_concurrency: tuple[int, ...]
    overhead_latency_ms: tuple[float, ...]
    overhead_warmup: float
    overhead_duration: float
    throughput_concurrency: int
    throughput_warmup: float
    throughput_duration: float
    page_sizes: tuple[int, ...]
    size_repeats: int
    emails: int
    node_ids: int
    mutation_contacts: int
    burst_requests: int
    profile_requests_target: int
    profile_requests_small: int
    profile_requests_worst: int


FULL = Profile(
    name="full",
    seed=42,
    standard_contacts=1000,
    large_contacts=30_000,
    large_deleted_fraction=0.34,
    min_samples=30,
    overhead_concurrency=(1, 8, 32),
    overhead_latency_ms=(0.0, 50.0),
    overhead_warmup=1.0,
    overhead_duration=5.0,
    throughput_concurrency=32,
    throughput_warmup=1.0,
    throughput_duration=6.0,
    page_sizes=(50, 500),
    size_repeats=3,
    emails=50,
    node_ids=100,
    mutation_contacts=100,
    burst_requests=32,
    profile_requests_target=100,
    profile_requests_small=500,
    profile_requests_worst=3,
)

QUICK = Profile(
    name="quick",
    seed=42,
    standard_contacts=400,
    large_contacts=1500,
    large_deleted_fraction=0.34,
    min_samples=3,
    overhead_concurrency=(1, 8, 32),
    overhead_latency_ms=(0.0, 50.0),
    overhead_warmup=0.1,
    overhead_duration=0.4,
    throughput_concurrency=32,
    throughput_warmup=0.1,
    throughput_duration=0.5,
    page_sizes=(50, 500),
    size_repeats=1,
    emails=10,
    node_ids=20,
    mutation_contacts=10,
    burst_requests=8,
    profile_requests_target=10,
    profile_requests_small=20,
    profile_requests_worst=1,
)

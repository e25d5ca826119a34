"""The instruction count of section 2's critical path: measured under valgrind, gateway above direct."""

from __future__ import annotations

from bench.instructions import measure


def test_the_work_after_the_slowest_answer_is_counted_for_the_gateway_and_the_direct_baseline() -> None:
    counts = measure(requests=2)
    # Decoding GetResponse's answer alone is millions of instructions; the gateway does that and more.
    assert 1e6 < counts["direct"] < counts["gateway"] < 200e6
    assert counts["gateway_only"] == counts["gateway"] - counts["direct"]

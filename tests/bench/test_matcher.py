"""``python -m bench.matcher`` runs and reports (its verdict depends on the machine: not asserted)."""

from __future__ import annotations

import random

import pytest

from bench import matcher


def test_patterns_are_within_the_stated_sizes() -> None:
    rng = random.Random(1)
    patterns = [matcher.random_pattern(rng) for _ in range(200)]
    assert all(1 <= len(p) <= 254 for p in patterns) and len(matcher.VALUE) == 254
    assert any("%" in p and "_" in p for p in patterns)


def test_the_report_names_the_machine_the_command_and_both_matchers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    matcher.main(["--patterns", "20", "--seed", "2"])
    out = capsys.readouterr().out
    assert "command: python -m bench.matcher --patterns 20 --seed 2" in out
    assert "machine: " in out and "cores" in out
    assert out.count("worst") >= 4 and "gateway:" in out and "emulators:" in out

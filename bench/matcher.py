"""``python -m bench.matcher [--patterns N] [--seed S]``: the LIKE matcher's worst case, measured.

Random patterns of 1 to 254 characters drawn mostly from ``%``, ``_`` and the letters of the value
(so that they almost match, the case that made backtracking explode) are each compiled and matched
against one 254-character value; the report gives the worst and the median time per pattern, for the
gateway's matcher and the emulators' copy, with the largest step count seen.  The target
(``TARGET_SECONDS``) bounds the worst case: one request's matching must never hold the event loop.
"""

from __future__ import annotations

import argparse
import platform
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from bench.machine import machine
from gateway.core import wildcards

__all__ = ["main", "measure"]

VALUE = ("ab" * 121) + "@example.com"  # 254 characters, the longest address the gateway accepts
TARGET_SECONDS = 0.001
_PIECES = ["%", "%", "%", "_", "a", "b", "ab", "@", "."]
# Hand-made worst cases next to the random ones: runs of %, many short segments, one long segment
# that almost matches everywhere.
ADVERSARIAL = [
    "%" * 253 + "!",
    "%a" * 126 + "!",
    "_%" * 127,
    "%" + "ab" * 63 + "!%",
    "%" + "a_" * 63 + "!%",
    "a%" * 126 + "!",
]


def random_pattern(rng: random.Random) -> str:
    size = rng.randint(1, 254)
    pattern = ""
    while len(pattern) < size:
        pattern += rng.choice(_PIECES)
    if rng.random() < 0.5:
        pattern = pattern[: size - 1] + "!"  # almost-matches: every segment search runs to the end
    return pattern[:size]


def measure(
    make: Callable[[str], object], patterns: Sequence[str], value: str = VALUE
) -> tuple[list[float], int]:
    """Seconds to compile and match each pattern, and the largest step count."""
    times: list[float] = []
    most_steps = 0
    for pattern in patterns:
        started = time.perf_counter()
        matcher = make(pattern)
        matcher.matches(value)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        counter = wildcards.StepCounter()
        matcher.matches(value, counter)  # type: ignore[attr-defined]
        most_steps = max(most_steps, counter.steps)
    return times, most_steps


def _emulator_matcher() -> Callable[[str], object] | None:
    try:
        from emulators.wildcards import LikePattern
    except ImportError:  # the emulators are a distribution of their own
        return None
    return lambda pattern: LikePattern(pattern.casefold())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matcher", description=__doc__)
    parser.add_argument("--patterns", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    patterns = [random_pattern(rng) for _ in range(args.patterns)]
    given = list(argv if argv is not None else sys.argv[1:])
    print("command:", shlex.join(["python", "-m", "bench.matcher", *given]))
    print(f"machine: {platform.platform()}, python {platform.python_version()}, ", end="")
    print(", ".join(f"{key} {value}" for key, value in machine().items()))
    print(f"{len(patterns)} random patterns of 1-254 characters (seed {args.seed}), ", end="")
    print(f"{len(VALUE)}-character value")
    makers: list[tuple[str, Callable[[str], object]]] = [("gateway", wildcards.LikePattern)]
    emulator = _emulator_matcher()
    if emulator is not None:
        makers.append(("emulators", emulator))
    worst_overall = 0.0
    for name, make in makers:
        measure(make, patterns[:50])  # warm the regular-expression cache and the interpreter
        times, most_steps = measure(make, patterns)
        hand_made, hand_made_steps = measure(make, ADVERSARIAL)
        most_steps = max(most_steps, hand_made_steps)
        worst = max(*times, *hand_made)
        worst_overall = max(worst_overall, worst)
        print(
            f"{name}: worst {max(times) * 1e3:.3f} ms, median {statistics.median(times) * 1e3:.3f} ms; "
            f"{len(ADVERSARIAL)} hand-made worst cases: worst {max(hand_made) * 1e3:.3f} ms; "
            f"largest step count {most_steps:,} (bound 254 x 256 = {254 * 256:,})"
        )
    verdict = "meets" if worst_overall < TARGET_SECONDS else "MISSES"
    print(f"{verdict} the target of a worst case under {TARGET_SECONDS * 1e3:g} ms")
    return 0 if worst_overall < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())

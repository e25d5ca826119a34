"""What adding up a request's cost takes: ``python -m bench.query_cost [--requests 20000]``.

Times :func:`gateway.schema.cost.request_cost` (the walk the cost limit makes before every request)
on the benchmark's 50-contact page (``LIST_PAGE``), on the page with nested campaign and message
(``LIST_PAGE_NESTED``) and on thirty aliased address lookups; the median and 90th percentile of
the per-request wall time, in process.  The target (``TARGET_MS``) is for the 50-contact page.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from bench.machine import machine
from bench.queries import LIST_PAGE, LIST_PAGE_NESTED
from gateway.config import Settings
from gateway.schema.cost import request_cost
from gateway.schema.schema import query_costs

TARGET_MS = 0.2
_LOOKUPS = " ".join(f"a{n}: deletedContactsByEmail(emails: $emails) {{ email }}" for n in range(30))
ALIASED = f"query($emails: [String!]!) {{ {_LOOKUPS} }}"


def _time(query: str, variables: dict[str, object], requests: int) -> tuple[float, float, int]:
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    costs = query_costs(Settings())
    cost = 0
    times: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        cost = request_cost(operation, fragments, variables, costs, providers=2)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.9)] * 1e3, cost


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.query_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args(argv)
    given = list(argv if argv is not None else sys.argv[1:])
    print("command:", shlex.join(["python", "-m", "bench.query_cost", *given]))
    print(f"machine: {platform.platform()}, python {platform.python_version()}, ", end="")
    print(", ".join(f"{key} {value}" for key, value in machine().items()))
    emails = [f"person{n}@example.com" for n in range(100)]
    rows = [
        ("50-contact page (LIST_PAGE)", *_time(LIST_PAGE, {"first": 50}, args.requests)),
        ("page with campaign and message", *_time(LIST_PAGE_NESTED, {"first": 50}, args.requests)),
        ("30 aliases x 100 addresses", *_time(ALIASED, {"emails": emails}, args.requests)),
    ]
    print("| document | cost | p50 | p90 |")
    print("|---|---|---|---|")
    for label, p50, p90, cost in rows:
        print(f"| {label} | {cost} | {p50 * 1000:.1f} µs | {p90 * 1000:.1f} µs |")
    page = rows[0][1]
    verdict = "meets" if page < TARGET_MS else "MISSES"
    print(f"{verdict} the target of under {TARGET_MS} ms p50 on the 50-contact page")
    return 0 if page < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())

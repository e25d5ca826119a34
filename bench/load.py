"""The load generator, a process of its own: ``python -m bench.load SPEC.json RESULT.json``.

It never shares an interpreter with what it measures.  A spec holds several runs, each driven by a
fixed number of concurrent workers (closed loop: a worker sends its next request when the previous
answer is in):

- ``kind: "http"`` posts GraphQL bodies to the gateway (``url``; or, with ``method: "GET"``, gets it),
  each worker on a keep-alive connection of its own (``bench.rawhttp``: httpx costs more CPU per
  request than the gateway's small queries, and the load generator shares the server's cores).
  ``bodies`` are cycled; with ``distinct`` every request gets its own operation name (``query Q123
  {...}``), a text neither the parse cache nor the validation cache has seen.  An answer counts as an
  error unless it is HTTP 200 without an ``errors`` member (``expect: "graphql"``) or just HTTP 200
  (``expect: "status"``).
- ``kind: "direct"`` does the gateway's upstream work for ``deletedContacts`` without the gateway: the
  provider clients the gateway uses list every deleted Constant Contact contact (pages of 500, as JSON:
  ``iter_contact_entries``, the adapter's own call) and send GetResponse the same JSON-RPC batch the
  adapter sends, concurrently.

Timing: with ``duration`` a run first warms up for ``warmup`` seconds (nothing recorded), then records
every request that completes inside the measured window (kept open past ``duration`` until at least
``min_samples`` requests completed in it, so a saturated server still yields percentiles).  With
``once`` every body is sent exactly once and the run lasts until the last answer (bursts).  For each run
the result holds the latencies, errors, bytes, and the CPU seconds the load generator and every
watched process (``watch``: name to pid) used inside the window, read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from bench.procfs import cpu_seconds
from bench.rawhttp import RawConnection

__all__ = ["main", "renamed", "run_spec"]

MAX_EXTENSION_SECONDS = 30.0
"""How long a run's window may stay open past ``duration`` to collect ``min_samples`` answers."""

GRAPHQL_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json;q=0.9",
}


@dataclass(slots=True)
class Outcome:
    ok: bool
    size: int
    detail: str = ""


Operation = Callable[[int], Awaitable[Outcome]]


# -- workloads ---------------------------------------------------------------------------------------


_OPERATION = re.compile(r"^\s*(query|mutation)\b\s*([A-Za-z_]\w*)?")


def renamed(text: str, name: str) -> str:
    """``text`` with its operation named ``name`` (the shorthand ``{...}`` becomes ``query name {...}``)."""
    match = _OPERATION.match(text)
    if match is None:
        return f"query {name} {text.lstrip()}"
    return f"{match.group(1)} {name}{text[match.end() :]}"


def _body_factory(run: dict[str, Any]) -> Callable[[int], bytes]:
    bodies = run["bodies"]
    if not run.get("distinct"):
        encoded = [orjson.dumps(body) for body in bodies]
        return lambda index: encoded[index % len(encoded)]
    stamp = int(time.time() * 1000) % 1_000_000

    def distinct(index: int) -> bytes:
        body = dict(bodies[index % len(bodies)])
        body["query"] = renamed(body["query"], f"Q{stamp}n{index}")
        return orjson.dumps(body)

    return distinct


def http_operations(run: dict[str, Any], connections: list[RawConnection]) -> Callable[[], Operation]:
    """Each worker's operation, on a connection of its own (kept in ``connections`` for closing)."""
    url = urlsplit(run["url"])
    host, port, path = url.hostname or "127.0.0.1", url.port or 80, url.path or "/"
    expect = run.get("expect", "graphql")
    body_for = _body_factory(run) if run.get("method", "POST") == "POST" else None
    headers = {**GRAPHQL_HEADERS, **run.get("headers", {})}

    def for_worker() -> Operation:
        connection = RawConnection(host, port)
        connections.append(connection)

        async def send(index: int) -> Outcome:
            try:
                if body_for is None:
                    status, content = await connection.request("GET", path)
                else:
                    status, content = await connection.request("POST", path, body_for(index), headers)
            except OSError as exc:
                return Outcome(False, 0, str(exc))
            if status != 200:
                return Outcome(False, len(content), f"HTTP {status}: {content[:200]!r}")
            if expect == "graphql" and b'"errors"' in content:
                return Outcome(False, len(content), content[:300].decode(errors="replace"))
            return Outcome(True, len(content))

        return send

    return for_worker


async def direct_operation(direct: dict[str, Any]) -> tuple[Operation, Callable[[], Awaitable[None]]]:
    from gateway.providers.constant_contact.client import ConstantContactClient
    from gateway.providers.getresponse.client import GetResponseClient, RpcCall
    from gateway.providers.getresponse.conditions import DeletedContactsQuery

    cc = ConstantContactClient(
        base_url=direct["cc_url"],
        access_token=direct["cc_token"],
        rate_per_second=direct["cc_rate"],
        daily_quota=direct["cc_quota"],
    )
    gr = GetResponseClient(api_url=direct["gr_url"], api_key=direct["gr_key"])
    # What GetResponseAdapter._deleted_batch sends for an unfiltered listing: the deletions, and the
    # active contacts that tell superseded deletions (same conditions, here none).
    query = DeletedContactsQuery()
    calls = [RpcCall("get_contacts_deleted", query.to_params()), RpcCall("get_contacts", {})]

    async def cc_listing() -> int:
        found = 0
        # The same call the gateway's adapter makes: contacts left as JSON, no records built.
        async for page in cc.iter_contact_entries(status=("deleted",), limit=500):
            found += len(page.entries)
        return found

    async def both(index: int) -> Outcome:
        try:
            cc_count, answers = await asyncio.gather(cc_listing(), gr.batch(calls))
        except Exception as exc:  # a failed upstream exchange is a failed request, as at the gateway
            return Outcome(False, 0, f"{type(exc).__name__}: {exc}")
        failed = [a for a in answers if isinstance(a, BaseException)]
        if failed:
            return Outcome(False, 0, repr(failed[0]))
        return Outcome(True, cc_count + sum(len(a) for a in answers if isinstance(a, dict)))

    async def close() -> None:
        await cc.aclose()
        await gr.aclose()

    return both, close


# -- driving -----------------------------------------------------------------------------------------


def _cpu(watch: dict[str, int]) -> dict[str, float]:
    found = {"loadgen": time.process_time()}
    for name, pid in watch.items():
        try:
            found[name] = cpu_seconds(pid)
        except OSError:
            continue
    return found


async def drive(
    operation_for_worker: Callable[[], Operation], run: dict[str, Any], watch: dict[str, int]
) -> dict[str, Any]:
    concurrency = int(run["concurrency"])
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    total_bytes = 0
    counter = itertools.count()
    clock = time.perf_counter  # not the loop's clock: uvloop's moves in milliseconds, cached per tick
    once = run.get("once")
    count = len(run["bodies"]) if once else None
    warm_end = clock() + (0.0 if once else float(run.get("warmup", 0.0)))
    end = None if once else warm_end + float(run["duration"])
    min_samples = int(run.get("min_samples", 0))
    marks: dict[str, Any] = {}
    closed = False

    def record(started: float, finished: float, outcome: Outcome) -> None:
        nonlocal total_bytes
        if finished < warm_end or closed:
            return
        if outcome.ok:
            latencies.append((finished - started) * 1000)
            total_bytes += outcome.size
        else:
            errors[outcome.detail[:300]] += 1

    async def worker() -> None:
        operation = operation_for_worker()
        while not closed:
            index = next(counter)
            if count is not None and index >= count:
                return
            now = clock()
            outcome = await operation(index)
            record(now, clock(), outcome)

    async def window() -> None:
        nonlocal closed
        await asyncio.sleep(max(0.0, warm_end - clock()))
        marks["start"], marks["cpu_start"] = clock(), _cpu(watch)
        if end is None:
            return
        await asyncio.sleep(max(0.0, end - clock()))
        # A slow run (a saturated server) keeps its window open until it has a few samples.
        while len(latencies) < min_samples and clock() < end + MAX_EXTENSION_SECONDS:
            await asyncio.sleep(0.005)
        marks["end"], marks["cpu_end"] = clock(), _cpu(watch)
        closed = True

    timer = asyncio.create_task(window())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await timer
    if "end" not in marks:
        marks["end"], marks["cpu_end"] = clock(), _cpu(watch)
    wall = marks["end"] - marks["start"]
    cpu = {
        name: marks["cpu_end"][name] - marks["cpu_start"][name]
        for name in marks["cpu_end"]
        if name in marks["cpu_start"]
    }
    return {
        "label": run.get("label", ""),
        "concurrency": concurrency,
        "completed": len(latencies),
        "errors": sum(errors.values()),
        "error_samples": [f"{n}x {detail}" for detail, n in errors.most_common(3)],
        "latencies_ms": latencies,
        "bytes": total_bytes,
        "wall_s": wall,
        "throughput_rps": len(latencies) / wall if wall > 0 else 0.0,
        "cpu_s": cpu,
    }


async def run_spec(spec: dict[str, Any]) -> list[dict[str, Any]]:
    watch = {name: int(pid) for name, pid in spec.get("watch", {}).items()}
    results = []
    for run in spec["runs"]:
        if run["kind"] == "direct":
            operation, close = await direct_operation(spec["direct"])
            try:  # the workers share the two clients, as the gateway's requests do
                results.append(await drive(lambda shared=operation: shared, run, watch))
            finally:
                await close()
            continue
        connections: list[RawConnection] = []
        try:
            results.append(await drive(http_operations(run, connections), run, watch))
        finally:
            await asyncio.gather(*(c.close() for c in connections))
    return results


def main(argv: list[str] | None = None) -> int:
    spec_path, result_path = (argv or sys.argv[1:])[:2]
    with open(spec_path, "rb") as spec_file:
        spec = orjson.loads(spec_file.read())
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.run
    results = runner(run_spec(spec))
    with open(result_path, "w") as result_file:
        json.dump(results, result_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bench.peer`` (``make bench-peer``): our gateway against Hive Gateway on the same emulators.

Order of a run:

1. install the peer (``npm ci`` of the pinned packages into ``.tools/peer/``, skipped when present) and
   compose its supergraph (``bench.peer.install``);
2. the *fast* stack: both emulators with Constant Contact's limits raised (so latency, not the 4/s
   limit, is measured), our gateway with the synced index (``index=True``, the sync out of process, one
   ``gateway sync --once`` pass before measuring), and Hive Gateway on the same two emulators.  For
   each upstream latency (emulator fault ``latency_ms``): a warm-up run of every cell (it also sizes the
   rounds), then ``rounds`` rounds in which every workload at every concurrency runs on both sides in
   turn (the side that goes first alternates), each run sending a fixed number of requests
   (``once``), with the emulators' request counters reset before and read after it;
3. the *limited* stack: the same, with Constant Contact's documented 4 requests/s (emulator bucket of 4;
   our gateway's limiter at its default 4/s), and bursts of concurrent distinct requests on each side,
   counting the 429s the emulator answered;
4. the Markdown section, written into BENCHMARKS.md below ``bench.run``'s kept-sections marker, in
   place of an older one (``--output``: another file, or ``-`` for stdout).

Only one stack runs at a time; the load generator is a process of its own (``bench.load``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Context, LoadResult
from bench.peer.hive import start_hive
from bench.peer.hivelog import error_causes
from bench.peer.install import compose, install
from bench.peer.measure import (
    PLAIN,
    SIDES,
    TIMED_SIDES,
    Cell,
    Measurement,
    Row,
    throttled,
    upstream_requests,
)
from bench.peer.report import BurstResult, Report, render
from bench.peer.workloads import (
    LATER_PAGE_OFFSET,
    Inputs,
    Workload,
    contacts_in_answer,
    cursor_from_href,
    workloads,
)
from bench.profiles import FAST_DAILY_QUOTA, FAST_RATE, FULL
from bench.report import write_kept_section
from bench.servers import (
    CC_TOKEN,
    GR_KEY,
    Server,
    Stack,
    graphql,
    run_gateway_sync,
    start_server,
    start_stack,
)

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUTPUT = ROOT / "BENCHMARKS.md"
TITLE = "## Against Hive Gateway (issue 16)"


@dataclass(frozen=True, slots=True)
class Plan:
    contacts: int = 1000
    """Contacts per emulator (30% deleted)."""
    seed: int = 42
    concurrencies: tuple[int, ...] = (1, 16)
    latencies_ms: tuple[float, ...] = (0.0, 50.0)
    rounds: int = 3
    seconds_per_run: float = 1.5
    """How long one side's run in one round should last (sets its request count after the warm-up)."""
    max_requests: int = 1500
    emails: int = 50
    burst_first_pages: int = 16
    burst_lookups: int = 4


@dataclass
class Pair:
    """Both sides wired to one pair of emulators."""

    stack: Stack
    hive: Server
    plain: Server
    """Our gateway again on the same database, with ``ANSWER_CACHE=false``."""

    def url(self, side: str) -> str:
        if side == PLAIN:
            return self.plain.url + "/graphql"
        return self.stack.graphql_url if side == "ours" else self.hive.url + "/graphql"

    def headers(self, side: str) -> dict[str, str]:
        return self.stack.headers if side in ("ours", PLAIN) else {}

    def pid(self, side: str) -> int:
        if side == PLAIN:
            return self.plain.pid
        return self.stack.gateway.pid if side == "ours" else self.hive.pid


@dataclass
class Collected:
    measurements: dict[Cell, dict[str, Measurement]] = field(default_factory=dict)
    returned: dict[str, dict[str, int]] = field(default_factory=dict)
    bursts: list[BurstResult] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Where:
    """What every stack of a run shares: the installed peer, its supergraph, the logs, the client."""

    peer_dir: Path
    supergraph: Path
    work_dir: Path
    client: httpx.AsyncClient


@contextlib.asynccontextmanager
async def pair(name: str, plan: Plan, where: Where, *, fast: bool) -> AsyncIterator[Pair]:
    """Both emulators, our gateway (index synced once) and Hive Gateway on the same emulators."""
    emulator = {"seed": plan.seed, "contacts": plan.contacts}
    cc: dict[str, Any] = dict(emulator)
    overrides: dict[str, Any] = {"index": True, "sync_in_process": False}
    if fast:
        cc |= {"requests_per_second": FAST_RATE, "daily_quota": FAST_DAILY_QUOTA}
        overrides |= {
            "constant_contact_rate_per_second": FAST_RATE,
            "constant_contact_daily_quota": FAST_DAILY_QUOTA,
        }
    work_dir, client = where.work_dir, where.client
    async with start_stack(
        name, cc_settings=cc, gr_settings=emulator, gateway_overrides=overrides, log_dir=work_dir,
        client=client, gateway_args=(),
    ) as stack:  # fmt: skip
        await run_gateway_sync(stack.gateway_settings, work_dir / f"{name}-sync.log")
        plain_settings = {**stack.gateway_settings, "answer_cache": False}
        plain = await start_server(
            f"{name}-plain", "gateway", plain_settings, log_dir=work_dir, client=client
        )
        stack.extra.append(plain)
        hive = await start_hive(
            f"{name}-hive", peer_dir=where.peer_dir, supergraph=where.supergraph, cc_url=stack.cc.url,
            gr_url=stack.gr.url, log_dir=work_dir, client=client,
        )  # fmt: skip
        try:
            yield Pair(stack, hive, plain)
        finally:
            await hive.stop()


async def read_inputs(client: httpx.AsyncClient, both: Pair, emails: int) -> Inputs:
    """Cursors of the later page on each side, and addresses deleted at either provider (half each)."""
    page = (
        "{ deletedContacts(first: %d, filter: {providers: [CONSTANT_CONTACT]}) { pageInfo { endCursor } } }"
    )
    body, _, _ = await graphql(
        client, both.url("ours"), page % LATER_PAGE_OFFSET, headers=both.headers("ours")
    )
    ours_cursor = body["data"]["deletedContacts"]["pageInfo"]["endCursor"]
    first = "{ p: getContacts(status: deleted, limit: 50) { _links { next { href } } } }"
    body, _, _ = await graphql(client, both.url("peer"), first, headers={})
    cursor = cursor_from_href(body["data"]["p"]["_links"]["next"]["href"])
    for _ in range(LATER_PAGE_OFFSET // 50 - 1):
        later = "query($c: String!) { p: contactsPage(cursor: $c) { _links } }"
        body, _, _ = await graphql(client, both.url("peer"), later, {"c": cursor}, headers={})
        cursor = cursor_from_href(body["data"]["p"]["_links"]["next"]["href"])
    assert cursor is not None, "Constant Contact has no later page"
    # Addresses straight from the emulators' APIs (not through either gateway).
    listed = await client.get(
        f"{both.stack.cc.url}/v3/contacts",
        params={"status": "deleted", "limit": 500},
        headers={"authorization": f"Bearer {CC_TOKEN}"},
    )
    cc_emails = sorted(c["email_address"]["address"] for c in listed.json()["contacts"])
    reply = await client.post(
        f"{both.stack.gr.url}/",
        json={"jsonrpc": "2.0", "id": 1, "method": "get_contacts_deleted", "params": [GR_KEY, {}]},
    )
    gr_emails = sorted({record["email"] for record in reply.json()["result"].values()})
    half = emails // 2
    chosen = cc_emails[:: max(1, len(cc_emails) // half)][:half]
    chosen += [e for e in gr_emails[:: max(1, len(gr_emails) // (emails - half))] if e not in chosen]
    return Inputs(ours_cursor, cursor, chosen[:emails])


async def describe(client: httpx.AsyncClient, both: Pair, loads: list[Workload]) -> dict[str, dict[str, int]]:
    """Deleted contacts in one answer of each workload on each side (the answers must have no errors;
    both processes of ours must give the same answer, reused or computed)."""
    found: dict[str, dict[str, int]] = {}
    for workload in loads:
        found[workload.key] = {}
        answers: dict[str, Any] = {}
        for side in TIMED_SIDES:
            body = workload.body(side)
            answers[side], _, _ = await graphql(
                client, both.url(side), body["query"], body["variables"], headers=both.headers(side)
            )
        body = workload.body("ours")
        reused, _, _ = await graphql(
            client, both.url("ours"), body["query"], body["variables"], headers=both.headers("ours")
        )
        if not answers["ours"]["data"] == reused["data"] == answers[PLAIN]["data"]:
            raise RuntimeError(f"{workload.key}: ours answers differently with ANSWER_CACHE=false")
        for side in SIDES:
            found[workload.key][side] = contacts_in_answer(answers[side]["data"])
    return found


def _run(
    both: Pair, side: str, workload: Workload, concurrency: int, requests: int, label: str
) -> dict[str, Any]:
    return {
        "kind": "http",
        "label": label,
        "url": both.url(side),
        "headers": both.headers(side),
        "bodies": [workload.body(side)] * requests,
        "once": True,
        "concurrency": concurrency,
    }


async def measured(
    context: Context, both: Pair, run: dict[str, Any], side: str
) -> tuple[dict[str, Any], int, int]:
    """One load run with the emulators' counters around it: (raw result, upstream requests, 429s)."""
    await both.stack.reset_counts()
    (result,) = await context.load_raw([run], watch={"server": both.pid(side)})
    cc, gr = await both.stack.counts()
    return result, upstream_requests([cc, gr]), throttled(cc)


async def measure_fast(
    context: Context, both: Pair, loads: list[Workload], plan: Plan, into: Collected
) -> None:
    cells = [(w, c) for w in loads for c in plan.concurrencies]
    for latency in plan.latencies_ms:
        await both.stack.set_latency(latency)
        context.progress(f"upstream latency {latency:g} ms: warm-up of every cell on both sides")
        warm_runs = [
            _run(both, side, w, c, max(4, 2 * c), f"{w.key}|{c}|{side}")
            for w, c in cells
            for side in TIMED_SIDES
        ]
        sizes: dict[str, int] = {}
        for raw in await context.load_raw(warm_runs, watch={}):
            concurrency = int(raw["concurrency"])
            rate = raw["completed"] / raw["wall_s"] if raw["wall_s"] > 0 else 0.0
            wanted = int(plan.seconds_per_run * rate)
            sizes[raw["label"]] = min(plan.max_requests, max(4 * concurrency, 8, wanted))
        for round_number in range(plan.rounds):
            context.progress(f"upstream latency {latency:g} ms: round {round_number + 1} of {plan.rounds}")
            # Who goes first turns with each round.
            turn = round_number % len(TIMED_SIDES)
            order = TIMED_SIDES[turn:] + TIMED_SIDES[:turn]
            for workload, concurrency in cells:
                cell = Cell(workload.key, concurrency, latency)
                sides = into.measurements.setdefault(cell, {side: Measurement() for side in TIMED_SIDES})
                for side in order:
                    label = f"{workload.key}|{concurrency}|{side}"
                    run = _run(both, side, workload, concurrency, sizes[label], label)
                    raw, upstream, refused = await measured(context, both, run, side)
                    sides[side].add(
                        latencies_ms=raw["latencies_ms"],
                        errors=raw["errors"],
                        error_samples=raw["error_samples"],
                        wall_s=raw["wall_s"],
                        server_cpu_s=raw["cpu_s"].get("server", float("nan")),
                        upstream=upstream,
                        throttled=refused,
                    )
    await both.stack.set_latency(0.0)


async def measure_bursts(
    context: Context, both: Pair, loads: list[Workload], plan: Plan, into: Collected
) -> None:
    by_key = {w.key: w for w in loads}
    for key, count in (("cc-first", plan.burst_first_pages), ("lookup", plan.burst_lookups)):
        workload = by_key[key]
        for side in SIDES:
            await asyncio.sleep(2.0)  # the emulator's bucket (and our limiter) full again
            run = {**_run(both, side, workload, count, count, f"burst|{key}|{side}"), "distinct": True}
            context.progress(f"burst: {count} concurrent distinct '{workload.title}' on {side}")
            raw, upstream, refused = await measured(context, both, run, side)
            result = LoadResult.from_json(raw)
            into.bursts.append(BurstResult(workload.title, side, count, result.completed, result.errors,
                                           upstream, refused, result.latency.p50, result.latency.max,
                                           result.error_samples[:1]))  # fmt: skip


async def run(plan: Plan, work_dir: Path, output: Path, command: str) -> Report:
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as client:
        context = Context(FULL, client, work_dir)
        context.progress(f"logs and load specs in {work_dir}")
        install_started = time.monotonic()
        peer_dir, installed = await install(work_dir, context.progress)
        install_s = time.monotonic() - install_started if installed else None
        supergraph = await compose(peer_dir, work_dir, context.progress)
        collected = Collected()
        where = Where(peer_dir, supergraph, work_dir, client)
        context.progress("fast stack: emulators, our gateway with the index (one sync pass), Hive Gateway")
        async with pair("peer-fast", plan, where, fast=True) as both:
            inputs = await read_inputs(client, both, plan.emails)
            loads = workloads(inputs)
            collected.returned = await describe(client, both, loads)
            await measure_fast(context, both, loads, plan, collected)
            peer_log = both.hive.log_path
        context.progress("limited stack: Constant Contact at 4 requests/s")
        async with pair("peer-limited", plan, where, fast=False) as both:
            loads = workloads(await read_inputs(client, both, plan.emails))
            await measure_bursts(context, both, loads, plan, collected)
        elapsed = time.monotonic() - context.started
    rows: dict[Cell, dict[str, Row]] = {
        cell: {side: m.row() for side, m in sides.items()} for cell, sides in collected.measurements.items()
    }
    return Report(
        started=started,
        command=command,
        elapsed_s=elapsed,
        load_before=load_before,
        load_after=os.getloadavg(),
        plan_text=_plan_text(plan),
        workloads=loads,
        returned=collected.returned,
        rows=rows,
        bursts=collected.bursts,
        install_s=install_s,
        peer_log_errors=dict(error_causes(peer_log.read_text(errors="replace"))),
    )


def _plan_text(plan: Plan) -> str:
    return (
        f"{plan.contacts:,} contacts per emulator (seed {plan.seed}, 30% deleted); concurrency "
        f"{' and '.join(map(str, plan.concurrencies))}; upstream latency "
        f"{' and '.join(f'{m:g} ms' for m in plan.latencies_ms)}; {plan.rounds} alternating rounds of about "
        f"{plan.seconds_per_run:g} s per side and cell after a warm-up"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="a file, or - for stdout")
    parser.add_argument("--rounds", type=int, default=Plan().rounds)
    parser.add_argument(
        "--seconds", type=float, default=Plan().seconds_per_run, help="per side, cell and round"
    )
    args = parser.parse_args(argv)
    plan = Plan(rounds=args.rounds, seconds_per_run=args.seconds)
    command = " ".join(["python -m bench.peer", *(argv if argv is not None else sys.argv[1:])])
    work_dir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    report = asyncio.run(run(plan, work_dir, Path(args.output), command))
    section = render(report)
    write_kept_section(section, args.output, TITLE)
    print(f"[bench-peer] wrote {args.output} (logs in {work_dir})", file=sys.stderr)
    return 0

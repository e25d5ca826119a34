"""``python -m bench.scale [--sizes 10000,100000,1000000] [--backend sqlite|postgresql] [--output PATH]``:
the synced index at 10k, 100k and 1M deleted contacts per provider.

For each size, a stack of real processes (both emulators seeded with that many deleted contacts, the
gateway with ``INDEX=true`` and the sync out of process) and, in order:

1. **Backfill**: ``gateway sync --once`` as its own process; its wall time, peak RSS (``VmHWM``, polled)
   and the upstream requests the emulators counted, against the physical minimum: Constant Contact
   ``ceil(N/500)`` GETs, which at its documented 4 requests/s take ``ceil(N/500)/4`` seconds (the
   emulators here answer at once, so the measured time is the gateway's and the database's part);
2. **Delta**: 1,000 new deletions at each provider (through the emulators' own APIs), then ``gateway sync
   --once`` again: its requests (targets: at most 3 at Constant Contact, 2 at GetResponse);
3. **Pages from the index**: p50 and p95 over ``repeats`` sequential requests of ``deletedContacts(first:
   50)`` (first page), the same with a filter (GetResponse bounces, then a Constant Contact day range),
   and a deep page (the page after the contact halfway down the list); every answer must come with zero
   upstream requests (the report checks them against the targets);
4. **Live path beside it**: one ``consistency: LIVE`` first page, its time and upstream requests (past the
   snapshot cap it is refused with ``LISTING_TOO_LARGE``, which is what it reports then);
5. the serving gateway's peak RSS over all of it (target: under 300 MiB at 1M).

The report is a Markdown section written into ``--output`` (default BENCHMARKS.md), replacing an older
"Scale" section below ``bench.run``'s kept-sections marker, or printed with ``--output -``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shlex
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import fmt, table
from bench.machine import machine
from bench.procfs import memory_kib, reset_peak_memory
from bench.report import write_kept_section
from bench.servers import CC_TOKEN, GR_KEY, Stack, graphql, run_gateway_sync, start_stack
from bench.stats import percentile

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
TITLE = "## Scale: the synced index (issue 13)"
CC_PAGE = 500
FAST = 10_000.0
# The emulators' account: a tenth of the contacts stay active (memberships, revivals), the rest deleted.
DELETED_FRACTION = 0.9

FIRST_PAGE = """query($filter: DeletedContactFilterInput, $after: String, $consistency: Consistency) {
  deletedContacts(first: 50, filter: $filter, after: $after, consistency: $consistency) {
    pageInfo { hasNextPage endCursor }
    sources { provider ok lagSeconds }
    edges { cursor node { id provider contactId email name createdAt deletedOn deletedAt reason restorable
      ... on GetResponseDeletedContact { campaignId messageId origin cycleDay } } }
  }
}"""


@dataclass
class SizeResult:
    deleted: int
    backfill_seconds: float = 0.0
    backfill_requests: dict[str, int] = field(default_factory=dict)
    backfill_peak_mib: float = 0.0
    delta_requests: dict[str, int] = field(default_factory=dict)
    delta_seconds: float = 0.0
    pages: dict[str, list[float]] = field(default_factory=dict)
    page_upstream: int = 0
    live: str = ""
    gateway_peak_mib: float = 0.0
    indexed: int = 0


async def _requests(stack: Stack) -> dict[str, int]:
    cc, gr = await stack.counts()
    return {"cc": int(cc["http_requests"]), "gr": int(gr["http_requests"])}


async def _delete_more(client: httpx.AsyncClient, stack: Stack, count: int) -> None:
    """``count`` new deletions at each provider, through the emulators' own APIs."""
    cc_auth = {"authorization": f"Bearer {CC_TOKEN}"}
    ids: list[str] = []
    url: str | None = f"{stack.cc.url}/v3/contacts?limit={CC_PAGE}"  # every status but deleted
    while url is not None and len(ids) < count:
        page = (await client.get(url, headers=cc_auth)).json()
        ids += [contact["contact_id"] for contact in page["contacts"]]
        following = page.get("_links", {}).get("next", {}).get("href")
        url = f"{stack.cc.url}{following}" if following else None
    for start in range(0, count, CC_PAGE):
        response = await client.post(
            f"{stack.cc.url}/v3/activities/contact_delete",
            json={"contact_ids": ids[start : start + CC_PAGE]},
            headers=cc_auth,
        )
        response.raise_for_status()
    await client.post(f"{stack.cc.url}/_emulator/clock", json={"advance_seconds": 60})
    listed = await client.post(
        f"{stack.gr.url}/", json={"jsonrpc": "2.0", "id": 1, "method": "get_contacts", "params": [GR_KEY]}
    )
    active = list(listed.json()["result"])[:count]
    calls = [
        {"jsonrpc": "2.0", "id": n, "method": "delete_contact", "params": [GR_KEY, {"contact": contact_id}]}
        for n, contact_id in enumerate(active)
    ]
    (await client.post(f"{stack.gr.url}/", json=calls)).raise_for_status()


async def _middle_cursor(client: httpx.AsyncClient, stack: Stack, total: int) -> str:
    """The cursor of the contact halfway down the merged list, found by keyset paging with large pages
    (a cursor is an order key, so any page after it costs what the first page costs)."""
    after: str | None = None
    walked = 0
    while walked + 500 <= total // 2:
        body, _, _ = await graphql(
            client,
            stack.graphql_url,
            "query($after: String) { deletedContacts(first: 500, after: $after) { pageInfo { endCursor } } }",
            {"after": after},
            headers=stack.headers,
        )
        after = body["data"]["deletedContacts"]["pageInfo"]["endCursor"]
        walked += 500
    assert after is not None
    return after


async def _timed(
    client: httpx.AsyncClient, stack: Stack, variables: dict[str, Any], repeats: int
) -> list[float]:
    times: list[float] = []
    for _ in range(repeats):
        _, _, seconds = await graphql(client, stack.graphql_url, FIRST_PAGE, variables, headers=stack.headers)
        times.append(seconds * 1000)
    return times


@contextlib.asynccontextmanager
async def _stack(
    deleted: int, backend: str, work_dir: Path, client: httpx.AsyncClient
) -> AsyncIterator[tuple[Stack, dict[str, Any]]]:
    # Exactly ``deleted`` deleted contacts at Constant Contact, and as many listed at GetResponse (whose
    # account also holds earlier removals of the same addresses, which it does not list).
    from emulators.constant_contact.settings import ConstantContactEmulatorSettings
    from emulators.getresponse.settings import GetResponseEmulatorSettings

    cc_account = ConstantContactEmulatorSettings.with_deleted(deleted, deleted_fraction=DELETED_FRACTION)
    gr_account = GetResponseEmulatorSettings.with_deleted(deleted, deleted_fraction=DELETED_FRACTION)
    emulator = {"seed": 42, "deleted_fraction": DELETED_FRACTION}
    overrides: dict[str, Any] = {
        "index": True,
        "sync_in_process": False,
        "constant_contact_rate_per_second": FAST,
        "constant_contact_daily_quota": 10**9,
        "snapshot_max_entries": 100_000,
        "provider_read_timeout": 120.0,
        "provider_total_timeout": 300.0,
        "request_deadline_seconds": 600.0,
    }
    async with contextlib.AsyncExitStack() as resources:
        if backend == "postgresql":
            from tests.databases import fresh_database_url

            url = await resources.enter_async_context(fresh_database_url("postgresql", work_dir))
            overrides["database_url"] = url
        stack = await resources.enter_async_context(
            start_stack(
                f"scale-{deleted}",
                cc_settings={
                    **emulator,
                    "contacts": cc_account.contacts,
                    "requests_per_second": FAST,
                    "daily_quota": 10**9,
                },
                gr_settings={**emulator, "contacts": gr_account.contacts},
                gateway_overrides=overrides,
                log_dir=work_dir,
                client=client,
                gateway_args=(),
            )
        )
        yield stack, stack.gateway_settings


async def measure(deleted: int, backend: str, repeats: int, work_dir: Path, progress: Any) -> SizeResult:
    result = SizeResult(deleted)
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(timeout=httpx.Timeout(900.0), limits=limits) as client:
        progress(f"{deleted:,}: seeding the emulators and starting the gateway")
        async with _stack(deleted, backend, work_dir, client) as (stack, settings):
            await stack.reset_counts()
            progress(f"{deleted:,}: backfill")
            log = work_dir / f"sync-{deleted}.log"
            result.backfill_seconds, result.backfill_peak_mib = await run_gateway_sync(settings, log)
            result.backfill_requests = await _requests(stack)

            progress(f"{deleted:,}: 1,000 new deletions at each provider, then a delta")
            await _delete_more(client, stack, 1000)
            await stack.reset_counts()
            result.delta_seconds, _ = await run_gateway_sync(settings, log)
            result.delta_requests = await _requests(stack)

            progress(f"{deleted:,}: pages from the index")
            await stack.reset_counts()
            await _timed(client, stack, {"consistency": "INDEXED"}, 3)  # warm-up, not counted
            result.pages["first page"] = await _timed(client, stack, {}, repeats)
            bounces = {"filter": {"providers": ["GETRESPONSE"], "reasons": ["BOUNCE"]}}
            result.pages["filtered: GetResponse bounces"] = await _timed(client, stack, bounces, repeats)
            days = {"filter": {"providers": ["CONSTANT_CONTACT"], "deletedOn": {"to": "2025-06-30"}}}
            result.pages["filtered: CC deleted before July 2025"] = await _timed(client, stack, days, repeats)
            body, _, _ = await graphql(
                client,
                stack.graphql_url,
                "{ deletedContacts(first: 1) { totalCount } }",
                headers=stack.headers,
            )
            result.indexed = body["data"]["deletedContacts"]["totalCount"]
            middle = await _middle_cursor(client, stack, result.indexed)
            await stack.reset_counts()
            result.pages["deep page (halfway)"] = await _timed(client, stack, {"after": middle}, repeats)
            upstream = await _requests(stack)
            result.page_upstream = upstream["cc"] + upstream["gr"]

            # The serving gateway's peak so far (start-up, pages from the index); the live path's
            # own peak is measured apart (it holds every deleted contact of both providers at once).
            result.gateway_peak_mib = memory_kib(stack.gateway.pid)["peak"] / 1024
            reset_peak_memory(stack.gateway.pid)
            progress(f"{deleted:,}: the live path")
            await stack.reset_counts()
            started = time.perf_counter()
            response = await client.post(
                stack.graphql_url,
                json={"query": FIRST_PAGE, "variables": {"consistency": "LIVE"}},
                headers=stack.headers,
            )
            seconds = time.perf_counter() - started
            answer = response.json()
            live_requests = await _requests(stack)
            errors = answer.get("errors") or []
            outcome = errors[0]["extensions"]["code"] if errors else "answered"
            cc_requests, gr_requests = live_requests["cc"], live_requests["gr"]
            live_peak = memory_kib(stack.gateway.pid)["peak"] / 1024
            result.live = (
                f"{outcome} in {fmt(seconds, 2)} s, {cc_requests} CC + {gr_requests} GR requests "
                f"(at CC's 4/s: at least {fmt(cc_requests / 4, 0)} s), gateway peak {fmt(live_peak, 0)} MiB"
            )
    return result


def _p(values: Sequence[float], fraction: float) -> float:
    return percentile(sorted(values), fraction)


def render(
    results: Sequence[SizeResult], *, backend: str, command: str, started: datetime, repeats: int
) -> str:
    facts = machine()
    rows_backfill = []
    for r in results:
        minimum = math.ceil(r.deleted / CC_PAGE)
        rows_backfill.append(
            [
                f"{r.deleted:,}",
                f"{r.indexed:,}",
                f"{r.backfill_requests.get('cc', 0)} (minimum {minimum})",
                f"{fmt(minimum / 4, 0)} s",
                r.backfill_requests.get("gr", 0),
                f"{fmt(r.backfill_seconds, 1)} s",
                f"{fmt(r.backfill_peak_mib, 0)} MiB",
                f"{r.delta_requests.get('cc', 0)} CC + {r.delta_requests.get('gr', 0)} GR",
                f"{fmt(r.delta_seconds, 1)} s",
            ]
        )
    page_names = list(results[0].pages) if results else []
    rows_pages = []
    for r in results:
        rows_pages.append(
            [f"{r.deleted:,}"]
            + [f"{fmt(_p(r.pages[name], 0.5), 1)} / {fmt(_p(r.pages[name], 0.95), 1)}" for name in page_names]
            + [r.page_upstream, f"{fmt(r.gateway_peak_mib, 0)} MiB", r.live]
        )
    worst = max((_p(r.pages[name], 0.5) for r in results for name in page_names), default=0.0)
    largest = max(results, key=lambda r: r.deleted) if results else None
    delta_met = all(
        r.delta_requests.get("cc", 9) <= 3 and r.delta_requests.get("gr", 9) <= 2 for r in results
    )
    verdicts = [
        f"- pages from the index, p50 under 20 ms at every size: **{'met' if worst < 20 else 'NOT MET'}** "
        f"(slowest p50 {fmt(worst, 1)} ms)",
        "- zero upstream requests for index pages: "
        f"**{'met' if all(r.page_upstream == 0 for r in results) else 'NOT MET'}**",
        "- delta after 1,000 deletions at each provider, at most 3 CC and 2 GR requests: "
        f"**{'met' if delta_met else 'NOT MET'}**",
    ]
    if largest is not None:
        verdicts.append(
            f"- gateway peak RSS under 300 MiB at {largest.deleted:,}: serving "
            f"{fmt(largest.gateway_peak_mib, 0)} MiB, sync process {fmt(largest.backfill_peak_mib, 0)} MiB: "
            f"**{'met' if max(largest.gateway_peak_mib, largest.backfill_peak_mib) < 300 else 'NOT MET'}**"
        )
    return "\n\n".join(
        [
            TITLE,
            f"`{command}` on {started.strftime('%Y-%m-%d %H:%M UTC')}, database: {backend}; machine: "
            f"{facts.get('CPU', '?')}, {facts.get('cores', '?')}. Deleted contacts per provider "
            f"(the emulators seed {DELETED_FRACTION:.0%} of their contacts deleted). The emulators answer "
            "at once (no rate limit), so wall times are the gateway's and the database's part; the 4/s "
            "column is the time Constant Contact's documented rate alone would take for the minimum "
            "number of GETs.",
            "\n".join(verdicts),
            "Backfill (`gateway sync --once` on an empty index) and delta (after 1,000 new deletions at each "
            "provider):",
            table(
                [
                    "deleted per provider",
                    "indexed (both providers, after the delta)",
                    "CC GETs",
                    "CC at 4/s",
                    "GR requests",
                    "backfill wall",
                    "sync peak RSS",
                    "delta requests",
                    "delta wall",
                ],
                rows_backfill,
            ),
            f"Pages (ms, p50 / p95 of {repeats} sequential requests over HTTP, full contact fields), the "
            "upstream requests they made, the serving gateway's peak RSS, and one live first page:",
            table(
                [
                    "deleted per provider",
                    *page_names,
                    "upstream requests",
                    "gateway peak RSS",
                    "live first page",
                ],
                rows_pages,
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"), help="a file, or - for stdout")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    command = shlex.join(["python", "-m", "bench.scale", *(argv if argv is not None else sys.argv[1:])])
    started = datetime.now(UTC)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-scale-"))

    def progress(message: str) -> None:
        print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    progress(f"logs in {work_dir}")
    results: list[SizeResult] = []
    for size in sizes:
        results.append(asyncio.run(measure(size, args.backend, args.repeats, work_dir, progress)))
        # Written after every size: a run stopped at a large size keeps what the smaller ones measured.
        section = render(
            results, backend=args.backend, command=command, started=started, repeats=args.repeats
        )
        write_kept_section(section, args.output, TITLE)
    progress(json.dumps({r.deleted: {name: _p(v, 0.5) for name, v in r.pages.items()} for r in results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Section 2: what the gateway adds to ``deletedContacts(first: 50)`` over calling the providers directly.

The direct baseline does the same upstream work with the same client classes the gateway uses (every
deleted Constant Contact contact in pages of 500, and GetResponse's deletions plus active contacts in
one JSON-RPC batch, both concurrently) from the load-generator process, decoding every result as
plain JSON, so the difference is the gateway: HTTP and GraphQL parsing, validation, decoding what it
needs of the results, mapping, filtering, merging, the paging snapshot, field resolution and JSON
encoding.  Upstream latency is set on both emulators (``latency_ms``).
"""

from __future__ import annotations

import math
from typing import Any

from bench.harness import Context, LoadResult, SectionResult, Verdict, fmt, table
from bench.procfs import memory_kib
from bench.profiles import FAST_DAILY_QUOTA, FAST_RATE
from bench.queries import LIST_PAGE, page_query
from bench.servers import CC_TOKEN, GR_KEY, Stack, graphql

__all__ = ["OVERHEAD_TARGET_MS", "run"]

OVERHEAD_TARGET_MS = 5.0
PAGE = 50
ROUNDS = 5
"""Gateway and direct runs alternate in this many rounds per concurrency, their samples pooled."""


def _direct(stack: Stack) -> dict[str, Any]:
    return {
        "cc_url": stack.cc.url,
        "cc_token": CC_TOKEN,
        "gr_url": stack.gr.url + "/",
        "gr_key": GR_KEY,
        "cc_rate": FAST_RATE,
        "cc_quota": FAST_DAILY_QUOTA,
    }


def _upstream(counts: tuple[dict[str, Any], dict[str, Any]]) -> str:
    cc, gr = counts
    gr_ops = ", ".join(f"{name} x{n}" for name, n in sorted(gr["operations"].items()))
    return (
        f"Constant Contact {cc['http_requests']} GET(s); GetResponse {gr['http_requests']} POST(s) ({gr_ops})"
    )


async def run(context: Context, stack: Stack) -> SectionResult:
    profile = context.profile
    direct = _direct(stack)
    rss_before = memory_kib(stack.gateway.pid)["rss"]
    await stack.set_latency(0)

    # The same upstream work, counted by the emulators: one gateway request, then one direct operation.
    await stack.reset_counts()
    await graphql(context.client, stack.graphql_url, LIST_PAGE, {"first": PAGE}, headers=stack.headers)
    gateway_work = _upstream(await stack.counts())
    await stack.reset_counts()
    await context.load(
        [{"kind": "direct", "label": "check", "once": True, "bodies": [{}], "concurrency": 1}],
        watch={},
        direct=direct,
    )
    direct_work = _upstream(await stack.counts())

    rows: list[list[str]] = []
    errors: list[str] = []
    baseline: tuple[LoadResult, LoadResult] | None = None
    for latency in profile.overhead_latency_ms:
        await stack.set_latency(latency)
        runs: list[dict[str, Any]] = []
        for concurrency in profile.overhead_concurrency:
            for _ in range(ROUNDS):  # alternating, so drift of the shared machine hits both alike
                timing = {
                    "concurrency": concurrency,
                    "warmup": profile.overhead_warmup / ROUNDS,
                    "min_samples": math.ceil(profile.min_samples / ROUNDS),
                    "duration": profile.overhead_duration / ROUNDS,
                }
                runs.append(
                    {
                        **timing,
                        "kind": "http",
                        "label": "gateway",
                        "url": stack.graphql_url,
                        "headers": stack.headers,
                        "bodies": [page_query(PAGE)],
                    }
                )
                runs.append({**timing, "kind": "direct", "label": "direct", "bodies": [{}]})
        context.progress(
            f"overhead: upstream latency {latency:g} ms, concurrency {profile.overhead_concurrency}"
        )
        results = await context.load(runs, watch=stack.watch(), direct=direct, pool=True)
        for gateway, plain in zip(results[::2], results[1::2], strict=True):
            if latency == 0 and gateway.concurrency == 1:
                baseline = (gateway, plain)
            for result in (gateway, plain):
                if result.errors:
                    errors.append(
                        f"{result.label} at {latency:g} ms, concurrency {result.concurrency}: "
                        f"{result.errors} errors, e.g. {result.error_samples[:1]}"
                    )
            g, d = gateway.latency, plain.latency
            rows.append(
                [
                    f"{latency:g} ms",
                    str(gateway.concurrency),
                    f"{g.count} / {d.count}",
                    f"{fmt(g.p50)} / {fmt(g.p95)} / {fmt(g.p99)}",
                    f"{fmt(d.p50)} / {fmt(d.p95)} / {fmt(d.p99)}",
                    f"{fmt(g.p50 / d.p50, 2)} / {fmt(g.p95 / d.p95, 2)} / {fmt(g.p99 / d.p99, 2)}",
                    fmt(g.p50 - d.p50, 2),
                    fmt(gateway.throughput_rps),
                    fmt(plain.throughput_rps),
                    fmt(gateway.cores("gateway"), 2),
                ]
            )
    await stack.set_latency(0)
    rss_after = memory_kib(stack.gateway.pid)["rss"]

    headers = [
        "upstream latency",
        "concurrency",
        "samples (gw / direct)",
        "gateway p50 / p95 / p99 ms",
        "direct p50 / p95 / p99 ms",
        "ratio gw/direct p50 / p95 / p99",
        "overhead p50 ms",
        "gateway req/s",
        "direct ops/s",
        "gateway CPU (cores)",
    ]
    verdicts = []
    facts = {}
    if baseline is not None:
        facts["page50_cpu_ms"] = baseline[0].cpu_s.get("gateway", 0.0) * 1000 / max(baseline[0].completed, 1)
        overhead = baseline[0].latency.p50 - baseline[1].latency.p50
        verdicts.append(
            Verdict(
                f"gateway overhead < {OVERHEAD_TARGET_MS:g} ms at p50 (50-contact page, concurrency 1, "
                "0 ms upstream)",
                overhead < OVERHEAD_TARGET_MS and not errors,
                f"{fmt(overhead, 2)} ms (gateway p50 {fmt(baseline[0].latency.p50, 2)} ms, direct p50 "
                f"{fmt(baseline[1].latency.p50, 2)} ms)",
            )
        )
    body = "\n\n".join(
        [
            f"Query: `deletedContacts(first: {PAGE})` from both providers with the common and "
            "provider-specific scalar fields (`bench/queries.py` `LIST_PAGE`), the same text every time. "
            f"Account: {profile.standard_contacts} contacts per emulator (30% deleted). Constant Contact "
            f"runs at {FAST_RATE:,.0f} requests/s in the emulator *and* in the gateway's limiter "
            f"(`CONSTANT_CONTACT_RATE_PER_SECOND`), daily quota {FAST_DAILY_QUOTA:,}, so the documented "
            "4/s limit does not dominate; section 5 measures the limit itself.",
            "Direct baseline: `ConstantContactClient.iter_contact_entries(status=('deleted',), limit=500)` "
            "and `GetResponseClient.batch([get_contacts_deleted, get_contacts])` (the calls "
            "`GetResponseAdapter` sends for an unfiltered listing), concurrently, from the load-generator "
            "process, each result decoded as plain JSON. (The gateway decodes only the address and "
            "campaign of each active contact, `read_memberships`: part of its own work, measured here.) "
            "Upstream work per request, counted by the emulators: gateway: "
            f"{gateway_work}; direct: {direct_work}.",
            f"Closed loop: each of N workers sends its next request when the last one is answered. "
            f"Gateway and direct alternate in {ROUNDS} rounds (so drift of the shared machine hits both "
            f"alike), each round {profile.overhead_warmup / ROUNDS:g} s of warm-up and "
            f"{profile.overhead_duration / ROUNDS:g} s measured (longer where fewer than "
            f"{math.ceil(profile.min_samples / ROUNDS)} answers came back in that time); the table pools "
            "the rounds. "
            "Every process (gateway, both emulators, load generator) shares the same cores.",
            table(headers, rows),
            f"Gateway RSS: {fmt(rss_before / 1024)} MiB before this section, {fmt(rss_after / 1024)} MiB "
            "after it (every first page stores a paging snapshot of the whole merged listing; they stay "
            "until their TTL or until the store's entry limit evicts them).",
        ]
    )
    if errors:
        body += "\n\nErrors:\n" + "\n".join(f"- {e}" for e in errors)
    return SectionResult("overhead", "2. Overhead", body, verdicts, facts)

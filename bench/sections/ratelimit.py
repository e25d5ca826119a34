"""Section 5: a burst that needs more Constant Contact calls than 4 per second allows.

Emulator and gateway both run at the documented default (4 requests/s per token; the emulator's bucket
holds 4).  The burst is N concurrent GraphQL requests that each need one Constant Contact GET: half
``deletedContact(id:)`` of distinct contacts, half ``deletedContactsByEmail`` of one distinct address.
Calls spaced evenly at the documented rate need at least ``(calls - 1) / 4`` seconds; the gateway should
take about that long and make Constant Contact answer no 429 at all.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.harness import Context, SectionResult, Verdict, fmt, table
from bench.queries import BY_EMAIL, LIST_PAGE, ONE_CONTACT
from bench.sections.amplification import throttled
from bench.servers import Stack, graphql

__all__ = ["DOCUMENTED_RATE", "run"]

DOCUMENTED_RATE = 4.0


async def run(context: Context, stack: Stack) -> SectionResult:
    profile = context.profile
    body, _, _ = await graphql(
        context.client, stack.graphql_url, LIST_PAGE, {"first": 500}, headers=stack.headers
    )
    nodes = [e["node"] for e in body["data"]["deletedContacts"]["edges"]]
    cc_nodes = [n for n in nodes if n["provider"] == "CONSTANT_CONTACT"]
    emails = list({n["email"].lower(): n["email"] for n in cc_nodes}.values())
    lookups = profile.burst_requests // 2
    bodies: list[dict[str, Any]] = [
        {"query": ONE_CONTACT, "variables": {"id": n["id"]}} for n in cc_nodes[:lookups]
    ]
    bodies += [
        {"query": BY_EMAIL, "variables": {"emails": [e]}}
        for e in emails[len(bodies) : len(bodies) + profile.burst_requests - lookups]
    ]
    await asyncio.sleep(1.5)  # both token buckets full again before the burst
    await stack.reset_counts()
    context.progress(f"rate limit: burst of {len(bodies)} requests at 4 Constant Contact calls/s")
    (result,) = await context.load(
        [
            {
                "kind": "http",
                "label": "burst",
                "url": stack.graphql_url,
                "headers": stack.headers,
                "bodies": bodies,
                "once": True,
                "concurrency": len(bodies),
            }
        ],
        watch=stack.watch(),
    )
    cc, gr = await stack.counts()
    calls = cc["http_requests"]
    refused = throttled(cc["operations"])
    minimum = max(0.0, (calls - 1) / DOCUMENTED_RATE)
    efficiency = minimum / result.wall_s if result.wall_s > 0 else 0.0
    rows = [
        [
            str(len(bodies)),
            str(calls),
            str(gr["http_requests"]),
            fmt(minimum, 2),
            fmt(result.wall_s, 2),
            f"{efficiency:.0%}",
            str(refused),
            str(result.errors),
            f"{fmt(result.latency.p50 / 1000, 2)} / {fmt(result.latency.max / 1000, 2)}",
        ]
    ]
    body_md = "\n\n".join(
        [
            f"Account: {profile.standard_contacts} contacts per emulator. Constant Contact emulator and "
            "gateway "
            "limiter at the documented defaults: 4 requests/s per token (emulator bucket of 4), 10,000 per "
            "day. "
            f"Burst: {lookups} `deletedContact(id:)` + {len(bodies) - lookups} `deletedContactsByEmail` of "
            "one "
            "address, each needing one Constant Contact GET, all sent at once by the load generator.",
            table(
                [
                    "GraphQL requests",
                    "CC calls",
                    "GR calls",
                    "minimum s ((calls - 1) / 4)",
                    "wall s",
                    "efficiency (min / wall)",
                    "CC 429s",
                    "gateway errors",
                    "latency p50 / max s",
                ],
                rows,
            ),
            "A client allowed to use the emulator's bucket of 4 at once could finish in (calls - 4) / 4 s; "
            "the "
            "gateway's limiter does not burst (`TokenBucket(rate, burst=1)`), which costs at most 0.75 s "
            "here "
            "and keeps it safe against a server that counts strictly per second.",
        ]
    )
    if result.errors:
        body_md += f"\n\nErrors: {result.error_samples}"
    verdicts = [
        Verdict(
            "zero Constant Contact 429s in a burst over the 4/s limit",
            refused == 0 and result.errors == 0,
            f"{refused} 429s, {result.errors} failed requests, {calls} calls in {fmt(result.wall_s, 2)} s "
            f"(minimum {fmt(minimum, 2)} s, {efficiency:.0%})",
        )
    ]
    return SectionResult("ratelimit", "5. Rate-limit efficiency", body_md, verdicts)

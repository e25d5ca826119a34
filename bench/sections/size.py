"""Section 4: time, bytes and peak memory by page size, and a walk through every deleted contact.

A first page (no ``after``) reads every deleted contact from both providers, merges them and stores the
snapshot; a next page slices that snapshot.  Peak memory is the gateway process's ``VmHWM``, reset
(``/proc/<pid>/clear_refs``) before each request, so every row shows its own peak.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.harness import Context, SectionResult, fmt, table
from bench.procfs import cpu_seconds, memory_kib, reset_peak_memory
from bench.profiles import FAST_RATE
from bench.queries import LIST_PAGE
from bench.servers import Stack, graphql

__all__ = ["page_cap", "run"]


def page_cap(stack: Stack) -> int:
    """``PAGE_SIZE_MAX`` of the running gateway (its setting, else the default)."""
    from gateway.config import Settings

    default = Settings.model_fields["page_size_max"].default
    return int(stack.gateway_settings.get("page_size_max", default))


def _mib(kib: float) -> str:
    return fmt(kib / 1024, 1)


def _requests(counts: tuple[dict[str, Any], dict[str, Any]]) -> str:
    cc, gr = counts
    return f"{cc['http_requests']} / {gr['http_requests']}"


@dataclass(frozen=True)
class _Page:
    connection: dict[str, Any]
    size: int
    seconds: float
    cpu_seconds: float
    peak_kib: int
    counts: tuple[dict[str, Any], dict[str, Any]]


async def _measured_page(context: Context, stack: Stack, first: int, after: str | None) -> _Page:
    pid = stack.gateway.pid
    reset_peak_memory(pid)
    await stack.reset_counts()
    cpu = cpu_seconds(pid)
    body, size, seconds = await graphql(
        context.client, stack.graphql_url, LIST_PAGE, {"first": first, "after": after}, headers=stack.headers
    )
    cpu = cpu_seconds(pid) - cpu
    peak = memory_kib(pid)["peak"]
    return _Page(body["data"]["deletedContacts"], size, seconds, cpu, peak, await stack.counts())


async def run(context: Context, stack: Stack) -> SectionResult:
    profile = context.profile
    pid = stack.gateway.pid
    cap = page_cap(stack)
    sizes = sorted({*profile.page_sizes, cap})
    idle = memory_kib(pid)
    peak_resettable = reset_peak_memory(pid)

    rows = []
    totals: dict[str, Any] = {}
    facts: dict[str, float] = {}
    for size in sizes:
        context.progress(f"size: pages of {size}")
        firsts: list[_Page] = []
        nexts: list[_Page] = []
        for _ in range(profile.size_repeats):
            firsts.append(await _measured_page(context, stack, size, None))
            cursor = firsts[-1].connection["pageInfo"]["endCursor"]
            nexts.append(await _measured_page(context, stack, size, cursor))
        totals = firsts[-1].connection
        first_cpu_ms = statistics.median(p.cpu_seconds for p in firsts) * 1000
        if size == cap:
            facts["first_page_cap_cpu_ms"] = first_cpu_ms
        rows.append(
            [
                f"{size}{' (the cap)' if size == cap else ''}",
                fmt(statistics.median(p.seconds for p in firsts) * 1000, 0),
                fmt(first_cpu_ms, 0),
                f"{firsts[-1].size:,}",
                _mib(max(p.peak_kib for p in firsts)),
                _requests(firsts[-1].counts),
                fmt(statistics.median(p.seconds for p in nexts) * 1000, 1),
                fmt(statistics.median(p.cpu_seconds for p in nexts) * 1000, 0),
                f"{nexts[-1].size:,}",
                _mib(max(p.peak_kib for p in nexts)),
            ]
        )

    context.progress(f"size: walking every deleted contact in pages of {cap}")
    reset_peak_memory(pid)
    await stack.reset_counts()
    after: str | None = None
    pages = contacts = walked_bytes = 0
    started = time.perf_counter()
    while True:
        body, size, _ = await graphql(
            context.client,
            stack.graphql_url,
            LIST_PAGE,
            {"first": cap, "after": after},
            headers=stack.headers,
        )
        connection = body["data"]["deletedContacts"]
        pages += 1
        contacts += len(connection["edges"])
        walked_bytes += size
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    walk_seconds = time.perf_counter() - started
    walk_peak = memory_kib(pid)["peak"]
    walk_counts = await stack.counts()
    after_walk = memory_kib(pid)

    by_provider = ", ".join(f"{s['provider']} {s['count']:,}" for s in totals.get("sources", []))
    body_md = "\n\n".join(
        [
            f"Account: {profile.large_contacts:,} contacts per emulator, deleted fraction "
            f"{profile.large_deleted_fraction:g}: {totals.get('totalCount', 0):,} deleted contacts "
            f"({by_provider}). Constant Contact at {FAST_RATE:,.0f} requests/s (emulator and gateway). "
            f"Query: `LIST_PAGE` (14 fields per contact). Times are medians of {profile.size_repeats} "
            "runs, measured by the client over loopback; the next page is the one after the first.",
            table(
                [
                    "page size",
                    "first page ms",
                    "first page gateway CPU ms",
                    "first page bytes",
                    "first page peak RSS MiB",
                    "upstream requests CC / GR",
                    "next page ms",
                    "next page gateway CPU ms",
                    "next page bytes",
                    "next page peak RSS MiB",
                ],
                rows,
            ),
            table(
                [
                    "walk",
                    "pages",
                    "contacts",
                    "total s",
                    "ms per page",
                    "bytes",
                    "peak RSS MiB",
                    "upstream requests CC / GR",
                ],
                [
                    [
                        f"every deleted contact, pages of {cap}",
                        str(pages),
                        f"{contacts:,}",
                        fmt(walk_seconds, 2),
                        fmt(walk_seconds * 1000 / pages, 0),
                        f"{walked_bytes:,}",
                        _mib(walk_peak),
                        _requests(walk_counts),
                    ]
                ],
            ),
            f"Gateway RSS: {_mib(idle['rss'])} MiB before this section, {_mib(after_walk['rss'])} MiB after "
            "the walk (paging snapshots stay in memory until their TTL)."
            + ("" if peak_resettable else " This kernel refused to reset VmHWM: peaks are lifetime peaks."),
        ]
    )
    return SectionResult("size", "4. Size", body_md, facts=facts)

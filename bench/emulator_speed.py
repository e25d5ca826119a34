"""``python -m bench.emulator_speed``: how fast the emulators answer the big reads, in process.

The test suite checks what these reads return (``tests/emulators/*/test_performance.py``); how long
they take is measured here, where a busy machine makes a number worse instead of a test red.  Every
request goes through ``httpx.ASGITransport`` (the emulator's whole path: auth, limits, query, paging,
serialisation) and the clock stops when the body has arrived.

- Constant Contact: one ``GET /v3/contacts`` page of 500 for several filters (median of ``repeats``),
  and a listing of every deleted contact following ``_links.next.href`` (median of listings, after
  one warm-up listing that fills the page caches);
- GetResponse: ``get_contacts_deleted`` for several condition sets, plain and gzip (median of
  ``repeats``).

The reads a sync of a large account makes (``--contacts 1111112 --deleted-fraction 0.9`` is a
million deleted contacts) are timed too, each of which should cost what it returns rather than what
the account holds: every page of the deleted listing (median and slowest page), an incremental
listing (``status=all&updated_after=`` the last days), ``get_contacts_deleted`` for a few days of
``deleted_on``, and ``get_contacts`` for a day of ``created_on`` / ``changed_on``.  ``--full-reads
false`` leaves out the reads of everything at once (a first page of 500 at every status, all
deleted GetResponse entries), which at a million contacts measure serialization, not the emulator;
``--sync-reads false`` measures only the reads of the small account the suite checks.

Each median is printed beside its target, the emulators' design goal for that read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

__all__ = ["Timing", "main", "measure"]

CC_AUTH = {"authorization": "Bearer demo-cc-access-token"}
GR_API_KEY = "demo-gr-api-key"
CC_PAGES: dict[str, dict[str, str]] = {
    "live": {"limit": "500"},
    "deleted": {"status": "deleted", "limit": "500", "include_count": "true"},
    "all+include": {"status": "all", "limit": "500", "include": "list_memberships,phone_numbers"},
    "deleted+updated_after": {
        "status": "deleted",
        "limit": "500",
        "include_count": "true",
        "updated_after": "2022-01-01",
    },
}
# Reads of a sync: a delta since the last days of the seeded period, and a few days of removals.
CC_DELTA = {"status": "all", "limit": "500", "updated_after": "2026-10-29T00:00:00Z"}
GR_RANGES: dict[str, tuple[str, dict[str, Any]]] = {
    "deleted_on 3 days": ("get_contacts_deleted", {"deleted_on": {"FROM": "2024-05-01", "TO": "2024-05-03"}}),
    "deleted_on 3 days + reason": (
        "get_contacts_deleted",
        {"deleted_on": {"FROM": "2024-05-01", "TO": "2024-05-03"}, "reason": "unsubscribe"},
    ),
    "created_on FROM a day": ("get_contacts", {"created_on": {"FROM": "2026-10-30"}}),
    "changed_on FROM a day": ("get_contacts", {"changed_on": {"FROM": "2026-10-30"}}),
}
GR_CONDITIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "several": {
        "get_campaigns": {"name": {"CONTAINS": "%news%"}},
        "email": {"NOT_CONTAINS": "%.org"},
        "reason": "bounce",
        "deleted_on": {"FROM": "2020-01-01", "TO": "2025-12-31"},
    },
    "messages": {"get_messages": {"name": {"CONTAINS": "%day%"}}, "created_on": {"TO": "2022-06-30"}},
}


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    median_ms: float
    target_ms: float
    items: int
    """What the read returned (contacts or entries): the same on every repeat."""


async def _timed(send: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response: httpx.Response = await send()
    return (time.perf_counter() - started) * 1000, response


async def _cc(
    contacts: int, repeats: int, deleted_fraction: float, full_reads: bool, sync_reads: bool
) -> list[Timing]:
    from emulators.constant_contact import ConstantContactEmulatorSettings, create_app

    settings = ConstantContactEmulatorSettings(
        seed=42,
        contacts=contacts,
        deleted_fraction=deleted_fraction,
        requests_per_second=1e6,
        daily_quota=10**9,
    )
    app = create_app(settings)
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://cc.emulator") as client:
        for name, params in CC_PAGES.items() if full_reads else ():
            runs = []
            for _ in range(repeats):
                elapsed, response = await _timed(
                    lambda p=params: client.get("/v3/contacts", params=p, headers=CC_AUTH)
                )
                response.raise_for_status()
                runs.append(elapsed)
            count = len(orjson.loads(response.content)["contacts"])
            timings.append(Timing(f"CC page of 500 [{name}]", statistics.median(runs), 25.0, count))

        async def listing(url: str | None, pages: list[float] | None = None) -> tuple[float, int]:
            waited, listed = 0.0, 0
            while url:
                elapsed, response = await _timed(lambda u=url: client.get(u, headers=CC_AUTH))
                response.raise_for_status()
                body = orjson.loads(response.content)
                waited += elapsed
                listed += len(body["contacts"])
                if pages is not None:
                    pages.append(elapsed)
                url = body.get("_links", {}).get("next", {}).get("href")
            return waited, listed

        deleted_url = "/v3/contacts?status=deleted&limit=500&include_count=true"
        first_pages: list[float] = []
        first = await listing(deleted_url, first_pages)  # warm-up: fills the page caches
        if sync_reads:
            timings += [
                Timing("CC deleted listing, first time", first[0], _per_page(75.0, first[1]), first[1]),
                Timing(
                    "CC deleted listing, first time: median page", statistics.median(first_pages), 25.0, 500
                ),
                Timing("CC deleted listing, first time: slowest page", max(first_pages), 50.0, 500),
            ]
        pages: list[float] = []
        runs_listed = [await listing(deleted_url, pages) for _ in range(repeats)]
        timings.append(
            Timing(
                "CC listing of every deleted contact",
                statistics.median(waited for waited, _ in runs_listed),
                _per_page(75.0, runs_listed[0][1]),
                runs_listed[0][1],
            )
        )
        if not sync_reads:
            return timings
        timings.append(Timing("CC deleted listing: median page", statistics.median(pages), 10.0, 500))
        timings.append(Timing("CC deleted listing: slowest page", max(pages), 25.0, 500))
        delta_url = "/v3/contacts?" + "&".join(f"{key}={value}" for key, value in CC_DELTA.items())
        runs_delta = [await listing(delta_url) for _ in range(repeats)]
        timings.append(
            Timing(
                f"CC delta listing (status=all, updated_after={CC_DELTA['updated_after'][:10]})",
                statistics.median(waited for waited, _ in runs_delta),
                _per_page(25.0, runs_delta[0][1]),
                runs_delta[0][1],
            )
        )
    return timings


def _per_page(milliseconds: float, items: int) -> float:
    """A listing's target: ``milliseconds`` per page of 500, at least one page."""
    return milliseconds * max(1, -(-items // 500))


async def _gr(
    contacts: int, repeats: int, deleted_fraction: float, full_reads: bool, sync_reads: bool
) -> list[Timing]:
    from emulators.getresponse import GetResponseEmulatorSettings, create_app

    gc.unfreeze()  # the Constant Contact emulator's account, frozen if large, is garbage now
    gc.collect()
    app = create_app(
        GetResponseEmulatorSettings(seed=42, contacts=contacts, deleted_fraction=deleted_fraction)
    )
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gr.emulator") as client:
        for name, (method, ranged) in GR_RANGES.items() if sync_reads else ():
            request = {"jsonrpc": "2.0", "method": method, "params": [GR_API_KEY, ranged], "id": 1}
            runs = []
            for _ in range(repeats):
                elapsed, response = await _timed(lambda r=request: client.post("/", json=r))
                response.raise_for_status()
                runs.append(elapsed)
            count = len(response.json()["result"])
            timings.append(Timing(f"GR {method} [{name}]", statistics.median(runs), 25.0, count))
        for name, conditions in GR_CONDITIONS.items() if full_reads else ():
            request = {
                "jsonrpc": "2.0",
                "method": "get_contacts_deleted",
                "params": [GR_API_KEY, conditions],
                "id": 1,
            }
            for encoding, target in (("identity", 50.0), ("gzip", 200.0)):
                runs = []
                for _ in range(repeats):
                    elapsed, response = await _timed(
                        lambda e=encoding, r=request: client.post("/", json=r, headers={"accept-encoding": e})
                    )
                    response.raise_for_status()
                    runs.append(elapsed)
                count = len(response.json()["result"])
                timings.append(
                    Timing(
                        f"GR get_contacts_deleted [{name}, {encoding}]",
                        statistics.median(runs),
                        target,
                        count,
                    )
                )
    return timings


async def measure(
    contacts: int = 30_000,
    repeats: int = 7,
    deleted_fraction: float = 0.34,
    *,
    full_reads: bool = True,
    sync_reads: bool = False,
) -> list[Timing]:
    """Every timing, Constant Contact first; ``contacts`` per emulator.

    ``sync_reads`` adds the reads of a sync (the command line's default); ``full_reads=False``
    leaves out the reads of everything at once.
    """
    return [
        *(await _cc(contacts, repeats, deleted_fraction, full_reads, sync_reads)),
        *(await _gr(contacts, repeats, deleted_fraction, full_reads, sync_reads)),
    ]


def render(timings: Sequence[Timing], contacts: int, repeats: int, deleted_fraction: float = 0.34) -> str:
    lines = [
        f"Emulator read speed, in process: {contacts:,} contacts per emulator "
        f"({deleted_fraction:.0%} deleted), median of {repeats}.",
        "",
        "| read | items | median ms | target ms | met |",
        "|---|---:|---:|---:|---|",
    ]
    for timing in timings:
        met = "yes" if timing.median_ms < timing.target_ms else "**no**"
        lines.append(
            f"| {timing.name} | {timing.items:,} | {timing.median_ms:.1f} | < {timing.target_ms:g} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_speed", description=__doc__)
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--deleted-fraction", type=float, default=0.34)
    parser.add_argument("--full-reads", choices=("true", "false"), default="true")
    parser.add_argument("--sync-reads", choices=("true", "false"), default="true")
    args = parser.parse_args(argv)
    timings = asyncio.run(
        measure(
            args.contacts,
            args.repeats,
            args.deleted_fraction,
            full_reads=args.full_reads == "true",
            sync_reads=args.sync_reads == "true",
        )
    )
    sys.stdout.write(render(timings, args.contacts, args.repeats, args.deleted_fraction))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

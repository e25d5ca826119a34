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

Each median is printed beside its target, the emulators' design goal for that read.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def _cc(contacts: int, repeats: int) -> list[Timing]:
    from emulators.constant_contact import ConstantContactEmulatorSettings, create_app

    settings = ConstantContactEmulatorSettings(
        seed=42, contacts=contacts, deleted_fraction=0.34, requests_per_second=1e6, daily_quota=10**9
    )
    app = create_app(settings)
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://cc.emulator") as client:
        for name, params in CC_PAGES.items():
            runs = []
            for _ in range(repeats):
                elapsed, response = await _timed(
                    lambda p=params: client.get("/v3/contacts", params=p, headers=CC_AUTH)
                )
                response.raise_for_status()
                runs.append(elapsed)
            count = len(orjson.loads(response.content)["contacts"])
            timings.append(Timing(f"CC page of 500 [{name}]", statistics.median(runs), 25.0, count))

        async def listing() -> tuple[float, int]:
            waited, listed = 0.0, 0
            url: str | None = "/v3/contacts?status=deleted&limit=500&include_count=true"
            while url:
                elapsed, response = await _timed(lambda u=url: client.get(u, headers=CC_AUTH))
                response.raise_for_status()
                body = orjson.loads(response.content)
                waited += elapsed
                listed += len(body["contacts"])
                url = body.get("_links", {}).get("next", {}).get("href")
            return waited, listed

        await listing()  # warm-up
        runs_listed = [await listing() for _ in range(repeats)]
        timings.append(
            Timing(
                "CC listing of every deleted contact",
                statistics.median(waited for waited, _ in runs_listed),
                75.0,
                runs_listed[0][1],
            )
        )
    return timings


async def _gr(contacts: int, repeats: int) -> list[Timing]:
    from emulators.getresponse import GetResponseEmulatorSettings, create_app

    app = create_app(GetResponseEmulatorSettings(seed=42, contacts=contacts, deleted_fraction=0.34))
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gr.emulator") as client:
        for name, conditions in GR_CONDITIONS.items():
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


async def measure(contacts: int = 30_000, repeats: int = 7) -> list[Timing]:
    """Every timing, Constant Contact first; ``contacts`` per emulator (34% deleted)."""
    return [*(await _cc(contacts, repeats)), *(await _gr(contacts, repeats))]


def render(timings: Sequence[Timing], contacts: int, repeats: int) -> str:
    lines = [
        f"Emulator read speed, in process: {contacts:,} contacts per emulator (34% deleted), "
        f"median of {repeats}.",
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
    args = parser.parse_args(argv)
    timings = asyncio.run(measure(args.contacts, args.repeats))
    sys.stdout.write(render(timings, args.contacts, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

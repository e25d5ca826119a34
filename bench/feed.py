"""``python -m bench.feed [--subscribers 100] [--events 2000] [--samples 30] [--output PATH]``: the
deletion feed's subscriptions (issue 17).

A stack of real processes (both emulators, the gateway with ``INDEX=true`` and its sync loop running
in-process at a short interval), and this process as the clients:

1. **Fan-out**: ``--subscribers`` SSE subscriptions (``contactEvents``), then ``--events`` events
   appended to the outbox directly (``DatabaseEventLog.append``, in batches, as the sync's
   transactions write them); the time from the first append until every subscriber has received
   every event, as events per second through the outbox and deliveries per second.
2. **Deletion to event**: one ``graphql-transport-ws`` subscriber; ``--samples`` times, a contact is
   deleted at an emulator through its own API (alternating providers) and the time until its event
   arrives is recorded (p50/p99): up to one sync interval of waiting for the next delta, the delta's
   own requests and writes, then up to one feed poll interval.

The clients share this machine (and, for SSE parsing, this process) with the gateway, so the numbers
are a lower bound of what the gateway alone would do.  The report is a Markdown section written to
``--output`` (default: its section of BENCHMARKS.md) or printed with ``--output -``.  ``--backend``: the
gateway's database, PostgreSQL (default; a fresh database on the machine's server) or SQLite (one
writer at a time: the appends here and the sync's writes contend for it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from bench.machine import machine
from bench.report import write_kept_section
from bench.servers import CC_TOKEN, GR_KEY, Stack, start_stack
from bench.stats import summarize

__all__ = ["main"]

SYNC_INTERVAL = 1.0
FEED_POLL = 0.1
APPEND_BATCH = 100
SUBSCRIPTION = (
    "subscription Feed($after: EventPosition) { contactEvents(after: $after) "
    "{ position kind provider contactId } }"
)


@dataclass
class Results:
    subscribers: int
    events: int
    fanout_seconds: float
    latencies_ms: dict[str, list[float]]
    backend: str
    load: str = ""
    """The machine's load averages (1, 5, 15 min) when the run ended: other work shares the cores."""


async def _sse(
    client: httpx.AsyncClient, stack: Stack, after: int, expected: int, ready: asyncio.Event
) -> float:
    """Read ``expected`` events from one SSE subscription; when the last one arrived (monotonic)."""
    body = {"query": SUBSCRIPTION, "variables": {"after": str(after)}}
    headers = {**stack.headers, "accept": "text/event-stream"}
    received = 0
    async with client.stream("POST", stack.graphql_url, json=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"contactEvents"' in line:
                received += 1
                if received == expected:
                    return time.monotonic()
    raise RuntimeError(f"stream ended after {received} of {expected} events")


async def fanout(stack: Stack, subscribers: int, events: int) -> float:
    from gateway.config import Settings
    from gateway.core.feed import ContactEvent, EventKind, EventSource
    from gateway.core.model import Provider
    from gateway.store import Database
    from gateway.store.outbox import DatabaseEventLog

    database = Database.from_settings(Settings(**stack.gateway_settings))
    log = DatabaseEventLog(database)
    try:
        start = await log.last_position()
        limits = httpx.Limits(max_connections=subscribers + 4, max_keepalive_connections=subscribers + 4)
        timeout = httpx.Timeout(60.0, read=None)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            ready = [asyncio.Event() for _ in range(subscribers)]
            readers = [
                asyncio.create_task(_sse(client, stack, start, events, ready[n])) for n in range(subscribers)
            ]
            await asyncio.gather(*(event.wait() for event in ready))
            await asyncio.sleep(1.0)  # the streams' first reads (their registrations) are done
            now = datetime.now(UTC)
            began = time.monotonic()
            for first in range(0, events, APPEND_BATCH):
                batch = [
                    ContactEvent(
                        EventKind.DELETED,
                        Provider.CONSTANT_CONTACT,
                        f"bench-{time.time_ns()}-{n}",
                        f"bench{n}@example.com",
                        now,
                        EventSource.SYNC,
                    )
                    for n in range(first, min(first + APPEND_BATCH, events))
                ]
                await log.append(batch)
            finished = await asyncio.gather(*readers)
        return max(finished) - began
    finally:
        await database.aclose()


async def _delete(client: httpx.AsyncClient, stack: Stack, provider: str, contact_id: str) -> None:
    if provider == "CONSTANT_CONTACT":
        response = await client.delete(
            f"{stack.cc.url}/v3/contacts/{contact_id}", headers={"authorization": f"Bearer {CC_TOKEN}"}
        )
        assert response.status_code == 204, response.text
        return
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "delete_contact",
        "params": [GR_KEY, {"contact": contact_id}],
    }
    response = await client.post(f"{stack.gr.url}/", json=call)
    assert response.status_code == 200 and response.json().get("error") is None, response.text


async def _last_position(stack: Stack) -> int:
    from gateway.config import Settings
    from gateway.store import Database
    from gateway.store.outbox import DatabaseEventLog

    database = Database.from_settings(Settings(**stack.gateway_settings))
    try:
        return await DatabaseEventLog(database).last_position()
    finally:
        await database.aclose()


async def _index_ready(client: httpx.AsyncClient, stack: Stack) -> None:
    """Wait for the first sync (a backfill, which writes no events) to finish."""
    query = {"query": "query Ready { deletedContacts(first: 1, consistency: INDEXED) { totalCount } }"}
    for _ in range(600):
        response = await client.post(stack.graphql_url, json=query, headers=stack.headers)
        if response.status_code == 200 and not response.json().get("errors"):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the index did not become ready")


async def deletion_to_event(stack: Stack, samples: int) -> dict[str, list[float]]:
    truth_cc, truth_gr = await stack.cc.ground_truth(), await stack.gr.ground_truth()
    active = {
        "CONSTANT_CONTACT": [
            c["contact_id"] for c in truth_cc["contacts"].values() if c["status"] != "deleted"
        ],
        "GETRESPONSE": list(truth_gr["contacts"]),
    }
    latencies: dict[str, list[float]] = {"CONSTANT_CONTACT": [], "GETRESPONSE": []}
    url = stack.gateway.url.replace("http://", "ws://") + "/graphql"
    async with (
        httpx.AsyncClient(timeout=30) as client,
        connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket,
    ):
        await _index_ready(client, stack)
        after = str(await _last_position(stack))  # no registration race: resume from a known position
        init = {"type": "connection_init", "payload": {"authorization": stack.headers["authorization"]}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        subscribe = {"query": SUBSCRIPTION, "variables": {"after": after}}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        for n in range(samples + 1):  # the first one warms up: not counted
            provider = "CONSTANT_CONTACT" if n % 2 == 0 else "GETRESPONSE"
            contact_id = active[provider][n // 2]
            began = time.monotonic()
            await _delete(client, stack, provider, contact_id)
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 120))
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                    continue
                assert message["type"] == "next", message
                event = message["payload"]["data"]["contactEvents"]
                if event["contactId"] == contact_id:
                    break
            if n > 0:
                latencies[provider].append((time.monotonic() - began) * 1000)
    return latencies


@contextlib.asynccontextmanager
async def feed_stack(work_dir: Path, client: httpx.AsyncClient, backend: str) -> AsyncIterator[Stack]:
    emulator = {"seed": 7, "contacts": 2000, "deleted_fraction": 0.3}
    overrides: dict[str, Any] = {
        "index": True,
        "sync_in_process": True,
        "sync_interval_seconds": SYNC_INTERVAL,
        "feed_poll_seconds": FEED_POLL,
        "feed_max_subscriptions_per_principal": 1000,
        "feed_subscriber_queue_size": 100_000,
        "constant_contact_rate_per_second": 1000.0,
        "constant_contact_daily_quota": 10**9,
    }
    async with contextlib.AsyncExitStack() as resources:
        if backend == "postgresql":
            # Several writers at once (the sync in the gateway, the appends here): what PostgreSQL is for.
            from tests.databases import fresh_database_url

            url = await resources.enter_async_context(fresh_database_url("postgresql", work_dir))
            overrides["database_url"] = url
        stack = await resources.enter_async_context(_started(work_dir, client, emulator, overrides))
        yield stack


def _started(
    work_dir: Path, client: httpx.AsyncClient, emulator: dict[str, Any], overrides: dict[str, Any]
) -> contextlib.AbstractAsyncContextManager[Stack]:
    return start_stack(
        "feed",
        cc_settings={**emulator, "requests_per_second": 1000.0, "daily_quota": 10**9},
        gr_settings=emulator,
        gateway_overrides=overrides,
        log_dir=work_dir,
        client=client,
        gateway_args=(),
    )


def report(results: Results, command: str) -> str:
    lines = [
        "## Deletion feed (issue 17): subscriptions",
        "",
        f"Command: `{command}`. Machine: "
        + ", ".join(f"{key} {value}" for key, value in machine().items())
        + ". The gateway, both emulators (separate processes) and the clients (this process) share it"
        + (f"; load average at the end of the run: {results.load}." if results.load else "."),
        "",
        f"**Fan-out.** {results.subscribers} SSE subscribers; {results.events} events appended to the "
        f"outbox ({results.backend}) in batches of {APPEND_BATCH}; every subscriber received every event in "
        f"{results.fanout_seconds:.2f} s: **{results.events / results.fanout_seconds:,.0f} events/s through "
        f"the outbox**, {results.events * results.subscribers / results.fanout_seconds:,.0f} deliveries/s "
        f"(feed poll interval {FEED_POLL} s). The outbox is read once per poll by the process's poller; "
        "each delivery is then one GraphQL execution of the subscription's selection for one subscriber "
        "(and one SSE parse here), which is what bounds the deliveries per second on this machine.",
        "",
        f"**Deletion to event** (graphql-transport-ws, sync loop in-process every {SYNC_INTERVAL} s, feed "
        f"poll {FEED_POLL} s): a contact deleted through the emulator's own API until its event arrived.",
        "",
        "| provider | samples | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for provider, samples in results.latencies_ms.items():
        summary = summarize(samples)
        lines.append(
            f"| {provider} | {summary.count} | {summary.p50:.0f} | {summary.p99:.0f} | {summary.max:.0f} |"
        )
    lines += [
        "",
        "Each deletion here is made just after the previous event arrived, so just after a sync: it "
        "waits about one full sync interval for the next delta, then the delta's own requests and writes; "
        "the feed adds at most one poll interval.",
        "",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> Results:
    with tempfile.TemporaryDirectory(prefix="bench-feed-") as directory:
        async with (
            httpx.AsyncClient(timeout=60) as client,
            feed_stack(Path(directory), client, args.backend) as stack,
        ):
            latencies = await deletion_to_event(stack, args.samples)
            seconds = await fanout(stack, args.subscribers, args.events)
    return Results(args.subscribers, args.events, seconds, latencies, args.backend, _load())


def _load() -> str:
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--output", default="BENCHMARKS.md", help="a file (its section replaced), or -")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    command = "python -m bench.feed " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = report(results, command.strip())
    write_kept_section(text, args.output, "## Deletion feed (issue 17): subscriptions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

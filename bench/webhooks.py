"""Events per second through the outbox to webhook receivers: ``python -m bench.webhooks``.

Writes ``--events`` events to the deletion feed's outbox (as GetResponse callbacks would: no index
change needed), registers ``--receivers`` webhooks, each at a receiver of its own (uvicorn servers in
a separate process, answering 204), and times the dispatcher (``gateway.webhooks.WebhookDispatcher``,
with the application's settings for batch and concurrency) until every event is delivered to every
receiver: queueing (outbox to delivery rows) and sending (signed POSTs, recorded) are timed apart.
SQLite by default (the gateway's default database), ``--postgres URL`` for PostgreSQL.

Writes the Markdown section "## Deletion feed (issue 17): webhooks" to ``--output``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import shlex
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from bench.machine import machine
from bench.report import write_kept_section
from gateway.config import Settings
from gateway.core.feed import ContactEvent, EventFilter, EventKind, EventSource
from gateway.core.model import Provider
from gateway.core.principals import Principal, PrincipalKind
from gateway.store import Database, ensure_schema
from gateway.store.outbox import DatabaseEventLog
from gateway.store.webhooks import DatabaseWebhookStore
from gateway.webhooks import HttpSender, RetryPolicy, TargetPolicy, WebhookDispatcher, WebhookRegistry

HEADING = "## Deletion feed (issue 17): webhooks"
OWNER = Principal(PrincipalKind.KEY, "bench", "bench", frozenset({"webhooks:manage"}))


def _serve_receivers(count: int, pipe: Connection) -> None:
    """The receivers' process: one uvicorn server (one event loop) listening on ``count`` ports,
    answering 204; their URLs are sent back.  One loop rather than a thread per receiver: threads
    would contend for the interpreter lock and measure that instead of the dispatcher."""
    import socket
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def hook(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    sockets = []
    for _ in range(count):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        sockets.append(listener)
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, backlog=2048))
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    pipe.send([f"http://127.0.0.1:{listener.getsockname()[1]}/hook" for listener in sockets])
    pipe.recv()  # until the benchmark is done
    server.should_exit = True
    thread.join(10)


def _events(count: int) -> list[ContactEvent]:
    moment = datetime.now(UTC)
    return [
        ContactEvent(
            kind=EventKind.DELETED,
            provider=Provider.GETRESPONSE if n % 2 else Provider.CONSTANT_CONTACT,
            contact_id=f"bench-{uuid.uuid4().hex}",
            email=f"bench{n}@example.com",
            occurred_at=moment,
            source=EventSource.CALLBACK,
            reason="unsubscribe",
        )
        for n in range(count)
    ]


async def _measure(url: str, urls: list[str], events: int, settings: Settings) -> dict[str, float]:
    database = Database(url)
    try:
        await ensure_schema(database, migrate=True)
        log = DatabaseEventLog(database)
        store = DatabaseWebhookStore(database)
        policy = TargetPolicy(allow_private=True)
        registry = WebhookRegistry(
            store, log, policy, max_per_principal=len(urls), max_url_length=2000, dead_letters_shown=0
        )
        for receiver in urls:
            await registry.register(OWNER, receiver, EventFilter())
        for start in range(0, events, 500):
            await log.append(_events(min(500, events - start)))
        limits = httpx.Limits(
            max_connections=settings.webhook_concurrency,
            max_keepalive_connections=settings.webhook_concurrency,
        )
        async with httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, limits=limits, trust_env=False
        ) as client:
            dispatcher = WebhookDispatcher(
                store,
                log,
                {},
                policy,
                HttpSender(client, total_timeout=settings.webhook_timeout_seconds),
                RetryPolicy(window_seconds=3600, base_seconds=1, max_seconds=1),
                batch=settings.webhook_batch,
                concurrency=settings.webhook_concurrency,
            )
            started = time.perf_counter()
            queued = await dispatcher.queue_new()
            queueing = time.perf_counter() - started
            delivered = 0
            while delivered < queued:
                report = await dispatcher.deliver_due()
                if report.delivered == 0 and report.retried == 0:
                    raise RuntimeError("deliveries stopped short")
                delivered += report.delivered
            total = time.perf_counter() - started
        counts = [s.counts for s in await store.summaries(None, dead_letters=0)]
        assert sum(c.delivered for c in counts) == events * len(urls), counts
        return {"queued": queued, "queueing": queueing, "sending": total - queueing, "total": total}
    finally:
        await database.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (postgresql+asyncpg://...)")
    parser.add_argument("--output", default="BENCHMARKS.md", help="a file (its section replaced), or -")
    args = parser.parse_args(argv)
    given = list(argv if argv is not None else sys.argv[1:])
    command = shlex.join(["python", "-m", "bench.webhooks", *given])
    settings = Settings()
    parent, child = multiprocessing.Pipe()
    receivers = multiprocessing.get_context("spawn").Process(
        target=_serve_receivers, args=(args.receivers, child)
    )
    receivers.start()
    try:
        urls: list[str] = parent.recv()
        with tempfile.TemporaryDirectory() as directory:
            url = args.postgres or f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
            result = asyncio.run(_measure(url, urls, args.events, settings))
    finally:
        parent.send("done")
        receivers.join(30)
    deliveries = args.events * args.receivers
    backend = "PostgreSQL" if args.postgres else "SQLite"
    lines = [
        HEADING,
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.platform()}, python {platform.python_version()}, "
        + ", ".join(f"{key} {value}" for key, value in machine().items())
        + "  ",
        f"Database: {backend}; receivers: {args.receivers} ports of one uvicorn server in another process, "
        f"answering 204; dispatcher batch {settings.webhook_batch}, "
        f"concurrency {settings.webhook_concurrency}.",
        "",
        "| events | receivers | deliveries | queueing | sending | events/s to every receiver "
        "| deliveries/s |",
        "|---|---|---|---|---|---|---|",
        f"| {args.events} | {args.receivers} | {deliveries} | {result['queueing']:.2f} s "
        f"| {result['sending']:.2f} s | {args.events / result['total']:.0f} "
        f"| {deliveries / result['total']:.0f} |",
        "",
        "Each delivery is a signed POST (HMAC-SHA256, Standard Webhooks headers) to the address the target "
        "policy checked, and its outcome a row update; every event reaches every receiver exactly once "
        "(checked from the delivery counts).",
        "",
    ]
    text = "\n".join(lines)
    write_kept_section(text, args.output, "## Deletion feed (issue 17): webhooks")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The gateway's memory under fuzzing: ``python -m bench.fuzz_rss [--requests 10000] [--trace]``.

Starts a ``gateway demo``-like process (both emulators in threads, the gateway under uvicorn on a free
loopback port; the demo's data, Constant Contact's rate limit lifted at both ends so the run is not
four requests a second), sends it ``--requests`` fuzzed requests made by the fuzz tests' strategies
(``tests/fuzz``: generated queries and mutations, hostile variables and document shapes, hostile
transport, mutations naming seeded contacts), and reports the process's resident memory (``VmRSS``
from ``/proc/PID/status``) before, every tenth of the way, and after.

What holds the memory is reported from inside the process by a small ASGI wrapper
(``/_bench/memory/...``, never part of the gateway): live objects by type (``gc``) and, with
``--trace``, ``tracemalloc`` allocations grown since the start of the run, by file and by line,
with the total traced size, so RSS can be split into live Python objects and memory the allocator
keeps; then each suspect cache (Strawberry's parse cache, the validated documents, the execution
plans, the paging snapshots) is emptied in turn and the traced memory that frees is reported.
``--trace`` slows the server down and adds its own overhead to RSS: take the RSS figures from a run
without it.  The server's log (every masked error, with its traceback) goes to a file in the
temporary directory, named at the start.

Every request is sent, ``%``-heavy patterns included: the LIKE matcher is linear, so none of them
holds the process.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.procfs import memory_kib

__all__ = ["MemoryProbe", "main"]

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = 1e9
DEADLINE_SECONDS = 10.0


class MemoryProbe:
    """ASGI wrapper: ``POST /_bench/memory/mark`` takes the baseline, ``GET /_bench/memory/report`` the
    growth since (live objects by type; tracemalloc by file and line when tracing)."""

    PREFIX = "/_bench/memory/"

    def __init__(self, app: ASGIApp, top: int = 15) -> None:
        self.app = app
        self.top = top
        self._types: Counter[str] = Counter()
        self._snapshot: tracemalloc.Snapshot | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIX):
            await self.app(scope, receive, send)
            return
        action = scope["path"][len(self.PREFIX) :]
        if action == "attribute":
            answer = {"freed_kib_by_clearing": _attribute()}
        elif action == "mark":
            gc.collect()
            self._types = _object_types()
            self._snapshot = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
            answer: dict[str, Any] = {"marked": True}
        else:
            answer = self.report()
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def report(self) -> dict[str, Any]:
        gc.collect()
        types = _object_types()
        grown = Counter({name: types[name] - self._types[name] for name in types})
        answer: dict[str, Any] = {
            "objects": sum(types.values()),
            "objects_grown_by_type": [[name, n] for name, n in grown.most_common(self.top) if n > 0],
        }
        if self._snapshot is not None:
            snapshot = tracemalloc.take_snapshot()
            current, peak = tracemalloc.get_traced_memory()
            answer["traced_kib"] = {"current": current // 1024, "peak": peak // 1024}
            for key in ("filename", "lineno"):
                stats = snapshot.compare_to(self._snapshot, key)[: self.top]
                answer[f"grown_by_{key}"] = [
                    [str(s.traceback[0]), s.size_diff // 1024, s.count_diff] for s in stats
                ]
        return answer


def _object_types() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects())


def _held_by_kind() -> list[tuple[str, int, Any]]:
    """The suspects, each as (what, how many entries it holds now, how to empty it).

    Found among the live objects, so the report follows whatever schemas the process built."""
    from strawberry.extensions import parser_cache

    from gateway.schema.fast import execution
    from gateway.schema.fast.documents import DocumentCache

    live = gc.get_objects()
    parse = parser_cache._get_parse_cache(parser_cache.DEFAULT_MAXSIZE)
    document_caches = [o for o in live if isinstance(o, DocumentCache)]
    facts = list(execution._FACTS.values())
    stores = [o for o in live if type(o).__name__ == "MemorySnapshotStore"]

    def clear_documents() -> None:
        for cache in document_caches:
            cache._entries.clear()

    def clear_plans() -> None:
        for f in facts:
            f._operations.clear()
            f._completions._entries.clear()

    def clear_snapshots() -> None:
        for store in stores:
            store._items.clear()
            store._held = 0

    return [
        ("strawberry ParserCache (speed layer off)", parse.cache_info().currsize, parse.cache_clear),
        (
            "DocumentCache (gateway/schema/fast/documents.py: parsed and validated texts)",
            sum(len(cache) for cache in document_caches),
            clear_documents,
        ),
        (
            "execution plans by operation, and compiled completions (gateway/schema/fast/execution.py)",
            sum(f.operations_held() + len(f._completions._entries) for f in facts),
            clear_plans,
        ),
        ("paging snapshots (entries)", sum(s.entries_held for s in stores), clear_snapshots),
    ]


def _attribute() -> list[dict[str, Any]]:
    """Traced memory freed by emptying each suspect in turn (needs tracemalloc)."""
    found = []
    for what, entries, clear in _held_by_kind():
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        clear()
        gc.collect()
        freed = (before - tracemalloc.get_traced_memory()[0]) // 1024
        found.append(
            {"what": what, "entries": entries, "freed_kib": freed if tracemalloc.is_tracing() else None}
        )
    return found


# -- the server process -----------------------------------------------------------------------------


def serve(trace: bool, seed: int) -> int:
    if trace:
        tracemalloc.start(1)
    import uvicorn
    from emulators.commands import demo_settings
    from emulators.constant_contact import ConstantContactEmulatorSettings
    from emulators.constant_contact import create_app as create_cc
    from emulators.getresponse import GetResponseEmulatorSettings
    from emulators.getresponse import create_app as create_gr

    from gateway.app import create_app
    from gateway.runtime import tune_garbage_collector
    from gateway.serving import BackgroundServer

    cc_settings = ConstantContactEmulatorSettings(
        seed=seed, requests_per_second=UNLIMITED, daily_quota=10**9, activity_processing_seconds=0.1
    )
    cc = BackgroundServer(create_cc(cc_settings)).start()
    gr = BackgroundServer(create_gr(GetResponseEmulatorSettings(seed=seed))).start()
    settings = demo_settings(
        cc.url,
        gr.url,
        constant_contact_rate_per_second=UNLIMITED,
        constant_contact_daily_quota=10**9,
        principal_requests_per_minute=10**9,
        principal_daily_cost=10**12,
        # The fuzzed requests carry no credential: what is measured is memory under hostile GraphQL,
        # which authentication would stop at the door (the server listens on loopback only).
        auth_mode="off",
    )
    app = MemoryProbe(create_app(settings))
    if settings.gc_tuning:  # as `gateway demo` does
        tune_garbage_collector()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="auto"))
    started = {"port": sock.getsockname()[1], "pid": os.getpid(), "cc": cc.url, "gr": gr.url}
    print(json.dumps(started), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    cc.stop()
    gr.stop()
    return 0


# -- the load ---------------------------------------------------------------------------------------


def _requests(count: int, truth: dict[str, Any]) -> list[Any]:
    """``count`` fuzzed requests (RawRequest), drawn as the fuzz tests draw them."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis_graphql import Mode, mutations, queries

    from tests.fuzz import hostile

    schema = (ROOT / "schema.graphql").read_text()
    scalars = hostile.scalar_nodes()
    refs = hostile.contact_references(hostile.seeded_references(truth))

    def post(document_and_variables: tuple[str, dict[str, Any]]) -> hostile.RawRequest:
        document, variables = document_and_variables
        body = orjson.dumps({"query": document, "variables": variables})
        return hostile.RawRequest("POST", "/graphql", {"content-type": "application/json"}, body)

    def documents(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        return strategy.map(lambda document: (document, {}))

    delete = (
        "mutation($input: DeleteContactsInput!) { deleteContacts(input: $input) { userErrors { code } } }"
    )
    named = st.lists(refs, max_size=5).map(lambda contacts: (delete, {"input": {"contacts": contacts}}))
    every = st.one_of(
        documents(queries(schema, custom_scalars=scalars)).map(post),
        documents(queries(schema, custom_scalars=scalars, mode=Mode.NEGATIVE)).map(post),
        hostile.shaped_documents().map(post),
        hostile.transport_requests(),
        documents(mutations(schema, custom_scalars=scalars)).map(post),
        named.map(post),
    )
    made: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=every)
    def draw(request: Any) -> None:
        if len(made) < count:
            made.append(request)

    while len(made) < count:
        draw()
    return made


def _send(client: httpx.Client, request: Any) -> str:
    try:
        response = client.request(
            request.method,
            request.path,
            headers=request.headers,
            content=request.body or None,
            params=request.params or None,
        )
    except httpx.TimeoutException:
        return "timeout"
    except httpx.TransportError as error:
        return type(error).__name__
    if response.status_code >= 500:
        return "5xx"
    return "INTERNAL_SERVER_ERROR" if b"INTERNAL_SERVER_ERROR" in response.content else "ok"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz_rss", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the server (slower)")
    parser.add_argument("--seed", type=int, default=42, help="the emulators' data (the demo's is 42)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.trace, args.seed)

    command = [sys.executable, "-m", "bench.fuzz_rss", "--serve", "--seed", str(args.seed)]
    if args.trace:
        command.append("--trace")
    log_path = Path(tempfile.gettempdir()) / f"fuzz_rss-server-{os.getpid()}.log"
    with log_path.open("wb") as log:  # the gateway logs every masked error with its traceback
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    print(f"server log: {log_path}")
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        pid = started["pid"]
        base = f"http://127.0.0.1:{started['port']}"
        with httpx.Client(base_url=base, timeout=DEADLINE_SECONDS) as client:
            truth = {
                "cc": httpx.get(f"{started['cc']}/_emulator/ground-truth", timeout=60).json(),
                "gr": httpx.get(f"{started['gr']}/_emulator/ground-truth", timeout=60).json(),
            }
            print(f"generating {args.requests} requests ...", flush=True)
            requests = _requests(args.requests, truth)
            for _ in range(20):  # warm up: imports, first listings, connection pools
                client.post("/graphql", json={"query": "{ deletedContacts(first: 5) { totalCount } }"})
            client.post("/_bench/memory/mark")
            before = memory_kib(pid)
            print(f"RSS before: {before['rss'] / 1024:.0f} MiB", flush=True)
            outcomes: Counter[str] = Counter()
            started_at = time.monotonic()
            step = max(1, len(requests) // 10)
            for index, request in enumerate(requests, 1):
                outcomes[_send(client, request)] += 1
                if index % step == 0:
                    rss = memory_kib(pid)["rss"] / 1024
                    elapsed = time.monotonic() - started_at
                    print(f"  {index:>6} requests  RSS {rss:6.0f} MiB  ({elapsed:.0f} s)", flush=True)
            time.sleep(2.0)
            after = memory_kib(pid)
            report = client.get("/_bench/memory/report", timeout=600).json()
            settled = memory_kib(pid)
            if args.trace:
                report["attribution"] = client.get("/_bench/memory/attribute", timeout=600).json()
                report["rss_mib_after_clearing"] = memory_kib(pid)["rss"] // 1024
        print(
            f"RSS after: {after['rss'] / 1024:.0f} MiB (peak {after['peak'] / 1024:.0f} MiB); "
            f"after a full collection: {settled['rss'] / 1024:.0f} MiB"
        )
        print("outcomes:", dict(outcomes))
        print(json.dumps(report, indent=1))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())

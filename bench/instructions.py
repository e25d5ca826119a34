"""CPU instructions of the work after the slowest provider's answer: ``python -m bench.instructions``.

Wall-clock timing on a shared 2-core machine drifts from one minute to the next by more than most
single optimisations change.  This tool measures deterministically instead: it counts
the CPU instructions (valgrind's callgrind) that one process spends on ``deletedContacts(first: 50)``
(the query of section 2) once the GetResponse answer has arrived, which is the request's critical path
(GetResponse's emulator takes longest to answer), and the same for the direct baseline of section 2.

- The gateway runs in this process (``create_app`` over an ASGI call, no sockets); the providers'
  answers were recorded once from the in-process emulators (the standard account of section 2) and
  are replayed from memory, JSON-RPC ids rewritten.
- The Constant Contact answer comes at once; the GetResponse answer is held back long enough for
  everything else to finish, then the count starts as it is handed over and stops when the answer
  (gateway) or the decoded result (direct) is complete.
- Counting is switched on and off by callgrind client requests from a tiny C helper, built with the
  machine's C compiler into a temporary directory (``valgrind/callgrind.h`` must be installed).

The outer command runs the inner one under valgrind and reads the dumps.  Instructions are not time:
a cache miss costs more than an add.  But the count is identical from run to run, so it tells whether
a change reduced the work.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

__all__ = ["main"]

_HELPER = r"""
#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_START_INSTRUMENTATION; }
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void dump(void) { CALLGRIND_DUMP_STATS; }
"""
_HOLD_SECONDS = 0.5
"""How long the GetResponse answer is held back (under valgrind, the rest takes well under that)."""
KINDS = ("gateway", "direct")


def _build_helper(directory: Path) -> Path:
    source, library = directory / "callgrind_helper.c", directory / "callgrind_helper.so"
    source.write_text(_HELPER)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


class _Counter:
    """Switches callgrind's counting on when the held-back answer is handed over, off when done."""

    def __init__(self, library: Path | None) -> None:
        self._lib = ctypes.CDLL(str(library)) if library is not None else None
        self.armed = False
        self.counting = False

    def start_instrumentation(self) -> None:
        if self._lib is not None:
            self._lib.start()

    def on(self) -> None:
        if self.armed and self._lib is not None:
            self._lib.toggle()
            self.counting = True

    def off(self) -> None:
        if self.counting and self._lib is not None:
            self._lib.toggle()
        self.counting = False

    def dump(self) -> None:
        if self._lib is not None:
            self._lib.dump()


@dataclass(frozen=True, slots=True)
class _Recorded:
    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes
    ids: list[Any]
    """The JSON-RPC ids of the recorded batch, in the order of its calls."""


class _Replay(httpx.AsyncBaseTransport):
    """Answers as the emulator answered the first time, with the request's JSON-RPC ids."""

    def __init__(self, app: Any, counter: _Counter | None = None) -> None:
        self._live = httpx.ASGITransport(app=app)
        self._recorded: dict[tuple[str, str, bytes], _Recorded] = {}
        self._counter = counter  # set for the answer that is held back and counted from

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        ids: list[Any] | None = None
        if body.startswith(b"["):  # a JSON-RPC batch: recorded without its ids
            calls = orjson.loads(body)
            ids = [call.get("id") for call in calls]
            body = orjson.dumps([{**call, "id": 0} for call in calls])
        key = (request.method, str(request.url), body)
        if key not in self._recorded:
            live = await self._live.handle_async_request(request)
            content = await live.aread()
            skip = {b"content-encoding", b"content-length"}  # the content is kept decoded
            headers = [(k, v) for k, v in live.headers.raw if k.lower() not in skip]
            self._recorded[key] = _Recorded(live.status_code, headers, content, ids or [])
        recorded = self._recorded[key]
        content = recorded.content
        if ids is not None:  # each answer gets the id its call has in this request
            renamed = dict(zip(recorded.ids, ids, strict=True))
            answers = orjson.loads(content)
            for answer in answers:
                answer["id"] = renamed[answer["id"]]
            content = orjson.dumps(answers)
        if self._counter is not None and self._counter.armed:
            await asyncio.sleep(_HOLD_SECONDS)
            self._counter.on()
        return httpx.Response(recorded.status, headers=recorded.headers, content=content)


async def _operations(counter: _Counter) -> tuple[Callable[[], Awaitable[Any]], Any, Any]:
    from emulators.constant_contact import ConstantContactEmulatorSettings
    from emulators.constant_contact import create_app as create_cc
    from emulators.getresponse import GetResponseEmulatorSettings
    from emulators.getresponse import create_app as create_gr

    from bench.profiles import FAST_DAILY_QUOTA, FAST_RATE, FULL
    from bench.queries import page_query
    from bench.servers import CC_TOKEN, GR_KEY, issue_key
    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.providers.constant_contact.client import ConstantContactClient
    from gateway.providers.getresponse.client import GetResponseClient, RpcCall
    from gateway.providers.getresponse.conditions import DeletedContactsQuery

    account: dict[str, Any] = {"seed": FULL.seed, "contacts": FULL.standard_contacts, "deleted_fraction": 0.3}
    cc_app = create_cc(
        ConstantContactEmulatorSettings(
            **account, requests_per_second=FAST_RATE, daily_quota=FAST_DAILY_QUOTA, access_tokens=(CC_TOKEN,)
        )
    )
    gr_app = create_gr(GetResponseEmulatorSettings(**account, api_keys=(GR_KEY,)))
    cc_transport, gr_transport = _Replay(cc_app), _Replay(gr_app, counter)
    settings = Settings(
        constant_contact_base_url="http://cc.invalid",
        constant_contact_access_token=CC_TOKEN,
        constant_contact_rate_per_second=FAST_RATE,
        constant_contact_daily_quota=FAST_DAILY_QUOTA,
        getresponse_api_url="http://gr.invalid/",
        getresponse_api_key=GR_KEY,
        log_level="WARNING",
        # The database (service keys) in a directory of its own, gone with the process's temp files.
        data_dir=Path(tempfile.mkdtemp(prefix="bench-instructions-db-")),
    )
    app = create_app(settings, constant_contact_transport=cc_transport, getresponse_transport=gr_transport)
    body = orjson.dumps(page_query(50))
    credential: list[bytes] = []  # issued once the app has started (its database is migrated then)

    async def authenticate() -> None:
        credential.append(f"Bearer {await issue_key(settings.model_dump())}".encode())

    async def gateway() -> None:
        sent: list[dict[str, Any]] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        if not credential:
            await authenticate()
        headers = [
            (b"host", b"gateway"),
            (b"content-type", b"application/json"),
            (b"authorization", credential[0]),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        await app(scope, receive, send)
        answer = b"".join(message.get("body", b"") for message in sent[1:])
        if sent[0]["status"] != 200 or b'"errors"' in answer:
            raise RuntimeError(f"the gateway failed: {answer[:300]!r}")

    cc = ConstantContactClient(
        base_url="http://cc.invalid",
        access_token=CC_TOKEN,
        rate_per_second=FAST_RATE,
        daily_quota=FAST_DAILY_QUOTA,
        transport=cc_transport,
    )
    gr = GetResponseClient(api_url="http://gr.invalid/", api_key=GR_KEY, transport=gr_transport)
    calls = [RpcCall("get_contacts_deleted", DeletedContactsQuery().to_params()), RpcCall("get_contacts", {})]

    async def cc_listing() -> int:
        found = 0
        async for page in cc.iter_contact_entries(status=("deleted",), limit=500):
            found += len(page.entries)
        return found

    async def direct() -> None:  # what section 2's direct baseline does
        await asyncio.gather(cc_listing(), gr.batch(calls))

    operation = {"gateway": gateway, "direct": direct}[os.environ["BENCH_INSTRUCTIONS_KIND"]]
    return operation, app, (cc, gr)


async def _inner(requests: int, library: Path | None) -> None:
    counter = _Counter(library)
    operation, app, clients = await _operations(counter)
    async with app.router.lifespan_context(app):
        for _ in range(3):  # warm: parse and validation caches, connection set-up, recorded answers
            await operation()
        counter.start_instrumentation()
        for _ in range(requests):
            counter.armed = True
            await operation()
            counter.armed = False
            counter.off()
        counter.dump()
    for client in clients:
        await client.aclose()


def _count(kind: str, requests: int, work: Path, library: Path) -> float:
    """Instructions per request after the held-back answer, for ``kind``."""
    out = work / f"{kind}.callgrind"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
        f"--callgrind-out-file={out}.%p", sys.executable, "-m", "bench.instructions", "--inner",
        "--requests", str(requests), "--helper", str(library),
    ]  # fmt: skip
    environment = {**os.environ, "BENCH_INSTRUCTIONS_KIND": kind}
    subprocess.run(command, check=True, env=environment, capture_output=True)
    (dump,) = work.glob(f"{kind}.callgrind.*.1")  # the client request's dump (the next is at exit)
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1]) / requests
    raise RuntimeError(f"no totals in {dump}")


def measure(requests: int = 8) -> dict[str, float]:
    """Instructions per request after the GetResponse answer: gateway, direct baseline, difference."""
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as directory:
        work = Path(directory)
        library = _build_helper(work)
        counts = {kind: _count(kind, requests, work, library) for kind in KINDS}
    return {**counts, "gateway_only": counts["gateway"] - counts["direct"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8, help="requests counted per kind (default 8)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--helper", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        asyncio.run(_inner(args.requests, args.helper))
        return 0
    counts = measure(args.requests)
    print(
        "deletedContacts(first: 50), work after the GetResponse answer, millions of instructions per request"
    )
    print(f"  gateway            {counts['gateway'] / 1e6:8.2f}")
    print(f"  direct baseline    {counts['direct'] / 1e6:8.2f}")
    print(f"  gateway's own work {counts['gateway_only'] / 1e6:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

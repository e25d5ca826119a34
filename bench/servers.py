"""Starting and stopping the benchmark's server processes, and talking to them.

A :class:`Stack` is one Constant Contact emulator, one GetResponse emulator and one gateway wired to
them, each a ``bench.serve`` process on its own loopback port.  :class:`Emulator` wraps an emulator's
control plane (request counts, faults, ground truth); :func:`graphql` sends one query to a gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load import GRAPHQL_HEADERS
from bench.serve import SETTINGS_VARIABLE

__all__ = [
    "CC_TOKEN",
    "GR_KEY",
    "Emulator",
    "GraphQLFailed",
    "Server",
    "Stack",
    "gateway_environment",
    "graphql",
    "run_gateway_sync",
    "start_server",
    "start_stack",
]

ROOT = Path(__file__).resolve().parent.parent
CC_TOKEN = "demo-cc-access-token"
GR_KEY = "demo-gr-api-key"
STARTUP_TIMEOUT = 180.0


@dataclass
class Server:
    name: str
    kind: str
    process: asyncio.subprocess.Process
    port: int
    pid: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGINT (uvicorn shuts down cleanly, a profiler writes its session), then SIGKILL if stuck."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


async def start_server(
    name: str,
    kind: str,
    settings: dict[str, Any],
    *,
    log_dir: Path,
    client: httpx.AsyncClient,
    extra_args: tuple[str, ...] = (),
) -> Server:
    log_path = log_dir / f"{name}.log"
    env = {**os.environ, SETTINGS_VARIABLE: json.dumps(settings)}
    with open(log_path, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.serve",
            kind,
            *extra_args,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
            env=env,
        )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)
    except TimeoutError:
        line = b""
    if not line:
        process.kill()
        await process.wait()
        raise RuntimeError(f"{name} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
    info = json.loads(line)
    server = Server(name, kind, process, int(info["port"]), int(info["pid"]), log_path)
    probe = "/healthz" if kind == "gateway" else "/_emulator/requests"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(server.url + probe)).status_code == 200:
                return server
        if process.returncode is not None or time.monotonic() > deadline:
            await server.stop()
            raise RuntimeError(f"{name} is not answering:\n{server.log_tail()}")
        await asyncio.sleep(0.05)


class Emulator:
    """An emulator's control plane (``/_emulator/...``)."""

    def __init__(self, server: Server, client: httpx.AsyncClient) -> None:
        self.server = server
        self._client = client

    @property
    def url(self) -> str:
        return self.server.url

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._client.request(method, self.url + path, json=body)
        response.raise_for_status()
        return response.json()

    async def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = await self._json("GET", "/_emulator/requests")
        return counts

    async def reset_counts(self) -> None:
        await self._json("POST", "/_emulator/requests/reset")

    async def set_faults(self, **faults: Any) -> None:
        await self._json("PUT", "/_emulator/faults", faults)

    async def ground_truth(self) -> Any:
        return await self._json("GET", "/_emulator/ground-truth")


@dataclass
class Stack:
    name: str
    cc: Emulator
    gr: Emulator
    gateway: Server
    gateway_settings: dict[str, Any]
    credential: str
    """A service key with every scope, issued in the gateway's database when the stack started."""
    extra: list[Server] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """What every request to the gateway carries: authentication is on, as in production."""
        return {"authorization": f"Bearer {self.credential}"}

    @property
    def graphql_url(self) -> str:
        return self.gateway.url + "/graphql"

    @property
    def emulators(self) -> tuple[Emulator, Emulator]:
        return self.cc, self.gr

    def watch(self) -> dict[str, int]:
        return {"gateway": self.gateway.pid, "cc": self.cc.server.pid, "gr": self.gr.server.pid}

    async def reset_counts(self) -> None:
        await asyncio.gather(self.cc.reset_counts(), self.gr.reset_counts())

    async def counts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        cc, gr = await asyncio.gather(self.cc.counts(), self.gr.counts())
        return cc, gr

    async def set_latency(self, latency_ms: float) -> None:
        await asyncio.gather(*(e.set_faults(latency_ms=latency_ms) for e in self.emulators))

    async def stop(self) -> None:
        servers = [self.gateway, *self.extra, self.cc.server, self.gr.server]
        await asyncio.gather(*(s.stop() for s in servers))


def gateway_settings(cc_url: str, gr_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "constant_contact_base_url": cc_url,
        "constant_contact_access_token": CC_TOKEN,
        "getresponse_api_url": gr_url + "/",
        "getresponse_api_key": GR_KEY,
        "log_level": "WARNING",
        # Budgets are charged on every request, as in production, with limits the load cannot reach.
        "principal_requests_per_minute": 10**9,
        "principal_daily_cost": 10**12,
        # Sections 1-5 measure the live path (reading the providers); bench.scale turns the index on.
        "index": False,
        **overrides,
    }


@contextlib.asynccontextmanager
async def start_stack(
    name: str,
    *,
    cc_settings: dict[str, Any],
    gr_settings: dict[str, Any],
    gateway_overrides: dict[str, Any],
    log_dir: Path,
    client: httpx.AsyncClient,
    gateway_args: tuple[str, ...] = ("--profile-control",),
) -> AsyncIterator[Stack]:
    """Both emulators (started together), then the gateway wired to them; everything stopped on exit."""
    started: list[Server] = []
    stack: Stack | None = None
    try:
        cc_server, gr_server = await asyncio.gather(
            start_server(f"{name}-cc", "constant-contact", cc_settings, log_dir=log_dir, client=client),
            start_server(f"{name}-gr", "getresponse", gr_settings, log_dir=log_dir, client=client),
        )
        started += [cc_server, gr_server]
        settings = gateway_settings(
            cc_server.url, gr_server.url, data_dir=str(log_dir / f"{name}-data"), **gateway_overrides
        )
        gateway = await start_server(
            f"{name}-gateway", "gateway", settings, log_dir=log_dir, client=client, extra_args=gateway_args
        )
        started.append(gateway)
        credential = await issue_key(settings)
        stack = Stack(
            name, Emulator(cc_server, client), Emulator(gr_server, client), gateway, settings, credential
        )
        yield stack
    finally:
        extra = stack.extra if stack is not None else []
        await asyncio.gather(*(s.stop() for s in [*extra, *started]), return_exceptions=True)


async def issue_key(settings: dict[str, Any]) -> str:
    """A key with every scope in the database of the gateway ``settings`` describe (already started,
    so already migrated)."""
    from gateway.config import Settings
    from gateway.core.principals import Scope
    from gateway.store import Database, KeyStore

    database = Database.from_settings(Settings(**settings))
    try:
        issued = await KeyStore(database).create(f"bench-{time.time_ns()}", [scope.value for scope in Scope])
    finally:
        await database.aclose()
    return issued.credential


def gateway_environment(settings: dict[str, Any]) -> dict[str, str]:
    """The gateway's settings as the environment a ``gateway`` command (``gateway sync``) reads."""
    environment = dict(os.environ)
    for key, value in settings.items():
        if value is not None:
            environment[key.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return environment


async def run_gateway_sync(settings: dict[str, Any], log: Path) -> tuple[float, float]:
    """``gateway sync --once`` as its own process against the gateway's database (pages then come from
    the index): (seconds, the process's peak RSS in MiB, polled from ``/proc``)."""
    from bench.procfs import memory_kib

    started = time.perf_counter()
    with open(log, "ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "sync", "--once", "--progress-seconds", "10",
            stdout=output, stderr=output, cwd=ROOT, env=gateway_environment(settings),
        )  # fmt: skip
        peak = 0
        while process.returncode is None:
            with contextlib.suppress(OSError, KeyError):
                peak = max(peak, memory_kib(process.pid)["peak"])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.2)
    if process.returncode != 0:
        raise RuntimeError(f"gateway sync --once exited {process.returncode}; see {log}")
    return time.perf_counter() - started, peak / 1024


class GraphQLFailed(RuntimeError):
    pass


async def graphql(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str],
) -> tuple[dict[str, Any], int, float]:
    """``(body, response bytes, seconds)`` of one query; raises :class:`GraphQLFailed` on any error.
    ``headers``: the stack's (its credential)."""
    started = time.perf_counter()
    response = await client.post(
        url, json={"query": query, "variables": variables or {}}, headers={**GRAPHQL_HEADERS, **headers}
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise GraphQLFailed(f"HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise GraphQLFailed(json.dumps(body["errors"])[:1000])
    return body, len(response.content), elapsed

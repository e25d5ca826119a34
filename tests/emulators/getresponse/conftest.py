"""Fixtures for the GetResponse emulator tests.

``gr`` is the emulator behind a small JSON-RPC helper, once in process (``httpx.ASGITransport``) and
once over real HTTP (``BackgroundServer``): every test that takes it runs both ways.  Override
``gr_settings`` with ``@pytest.mark.parametrize("gr_settings", [...])`` to change the emulator.

``receiver`` is a real local HTTP server that records the callbacks it gets; ``/hang`` holds each
request open until the test ends (or 10 s), to play a listener that never answers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.serving import BackgroundServer

from ...servers import ServerPool

API_KEY = "demo-gr-api-key"
SMALL_ACCOUNT = GetResponseEmulatorSettings(seed=11, contacts=400)


@dataclass
class GetResponse:
    """A test's handle on one emulator: raw posts, JSON-RPC calls, and the control plane."""

    http: httpx.AsyncClient
    app: Starlette
    transport: str
    next_id: int = 0

    async def post(self, payload: Any, **kwargs: Any) -> httpx.Response:
        return await self.http.post("/", json=payload, **kwargs)

    async def call(self, method: str, conditions: dict[str, Any] | None = None, *, key: str = API_KEY) -> Any:
        """One JSON-RPC 2.0 call; returns the whole reply object."""
        self.next_id += 1
        params: list[Any] = [key] if conditions is None else [key, conditions]
        response = await self.post({"jsonrpc": "2.0", "method": method, "params": params, "id": self.next_id})
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["id"] == self.next_id
        return reply

    async def result(self, method: str, conditions: dict[str, Any] | None = None) -> Any:
        reply = await self.call(method, conditions)
        assert "error" not in reply, reply
        return reply["result"]

    async def error(
        self, method: str, conditions: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        reply = await self.call(method, conditions, **kwargs)
        assert "result" not in reply, reply
        error: dict[str, Any] = reply["error"]
        return error

    async def ground_truth(self) -> dict[str, Any]:
        truth: dict[str, Any] = (await self.http.get("/_emulator/ground-truth")).json()
        return truth

    async def advance_clock(self, seconds: float) -> None:
        response = await self.http.post("/_emulator/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200

    async def request_log(self) -> dict[str, Any]:
        log: dict[str, Any] = (await self.http.get("/_emulator/requests")).json()
        return log

    async def deliveries(self) -> list[dict[str, Any]]:
        deliveries: list[dict[str, Any]] = (await self.http.get("/_emulator/callbacks")).json()["deliveries"]
        return deliveries

    async def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(deliveries := await self.deliveries()) < count:
            assert time.monotonic() < deadline, f"expected {count} callback attempts, saw {deliveries}"
            await asyncio.sleep(0.02)
        return deliveries


@pytest.fixture
def gr_settings() -> GetResponseEmulatorSettings:
    return SMALL_ACCOUNT


@pytest.fixture(params=["in_process", "real_http"])
def transport(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
async def gr(
    gr_settings: GetResponseEmulatorSettings, transport: str, emulator_servers: ServerPool
) -> AsyncIterator[GetResponse]:
    if transport == "in_process":
        app = create_app(gr_settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://gr.emulator"
        ) as http:
            yield GetResponse(http, app, transport)
            await app.state.callbacks.drain()
    else:
        server = emulator_servers.get(create_app, gr_settings)
        # Plain HTTP only: skipping the TLS setup saves ~0.1 s per test.
        async with httpx.AsyncClient(base_url=server.url, verify=False) as http:
            # A shared server starts every test from the seeded state, like a fresh one.
            assert (await http.post("/_emulator/reset")).status_code == 200
            yield GetResponse(http, server.app, transport)  # type: ignore[arg-type]


@dataclass
class CallbackReceiver:
    url: str
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        # Polls without blocking: in process, the emulator delivers from this very event loop.
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"expected {count} callbacks, got {self.requests}"
            await asyncio.sleep(0.01)
        return self.requests


def _receiver_app(receiver: CallbackReceiver) -> Starlette:
    async def record(request: Request) -> PlainTextResponse:
        receiver.requests.append({"method": request.method, "path": request.url.path, **request.query_params})
        if request.url.path == "/hang":
            deadline = time.monotonic() + 60  # a hang guard; the test or the teardown releases it sooner
            while not receiver.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        return PlainTextResponse("OK")

    return Starlette(routes=[Route("/ok", record, methods=["GET", "POST"]), Route("/hang", record)])


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver(url="")
    server = BackgroundServer(_receiver_app(receiver))
    receiver.url = server.url
    with server:
        yield receiver
        receiver.release.set()

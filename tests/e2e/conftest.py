"""The whole stack: both emulators and the gateway, in process and over real HTTP.

``stack`` runs everything in process (ASGI transports, no sockets): fast, for most behaviour.
``live_stack`` runs each part under its own uvicorn server on an ephemeral port and talks real HTTP.
Both give the same ``Stack`` interface, so a test can take either.

Constant Contact's limit of 4 requests per second would make every test wait, so the stacks here run
the emulator and the gateway's limiter at 100/s; the tests of the limit itself set it back to 4.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr
from pydantic import SecretStr
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import Settings
from gateway.serving import BackgroundServer
from tests.speed_layer import SPEED_LAYER

FAST_RATE = 100.0
CC_TOKEN = "demo-cc-access-token"
GR_KEY = "demo-gr-api-key"


def gateway_settings(cc_url: str, gr_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "constant_contact_base_url": cc_url,
        "constant_contact_access_token": SecretStr(CC_TOKEN),
        "getresponse_api_url": gr_url,
        "getresponse_api_key": SecretStr(GR_KEY),
        "provider_total_timeout": 2.0,
        "provider_read_timeout": 2.0,
        "retry_budget_seconds": 1.0,
        "breaker_failure_threshold": 50,
        "constant_contact_rate_per_second": FAST_RATE,
        "speed_layer": SPEED_LAYER,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    cc: httpx.AsyncClient
    gr: httpx.AsyncClient
    cc_app: Starlette
    gr_app: Starlette

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.gateway.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"accept": "application/graphql-response+json"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def counts(self) -> dict[str, dict[str, Any]]:
        return {
            "cc": (await self.cc.get("/_emulator/requests")).json(),
            "gr": (await self.gr.get("/_emulator/requests")).json(),
        }

    async def reset_counts(self) -> None:
        await self.cc.post("/_emulator/requests/reset")
        await self.gr.post("/_emulator/requests/reset")

    async def ground_truth(self) -> dict[str, Any]:
        return {
            "cc": (await self.cc.get("/_emulator/ground-truth")).json(),
            "gr": (await self.gr.get("/_emulator/ground-truth")).json(),
        }

    async def faults(self, which: str, **settings: Any) -> None:
        client = self.cc if which == "cc" else self.gr
        response = await client.put("/_emulator/faults", json=settings)
        assert response.status_code == 200, response.text


def emulator_apps(**cc_overrides: Any) -> tuple[Starlette, Starlette]:
    cc_settings: dict[str, Any] = {"requests_per_second": FAST_RATE, **cc_overrides}
    cc = create_cc(ConstantContactEmulatorSettings(seed=7, contacts=600, **cc_settings))
    gr = create_gr(GetResponseEmulatorSettings(seed=7, contacts=600))
    return cc, gr


@contextlib.asynccontextmanager
async def in_process_stack(
    cc_overrides: dict[str, Any] | None = None, **settings_overrides: Any
) -> AsyncIterator[Stack]:
    cc_app, gr_app = emulator_apps(**(cc_overrides or {}))
    app = create_app(
        gateway_settings("http://cc.emulator", "http://gr.emulator/", **settings_overrides),
        constant_contact_transport=httpx.ASGITransport(cc_app),
        getresponse_transport=httpx.ASGITransport(gr_app),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as gateway,
        httpx.AsyncClient(transport=httpx.ASGITransport(cc_app), base_url="http://cc.emulator") as cc,
        httpx.AsyncClient(transport=httpx.ASGITransport(gr_app), base_url="http://gr.emulator") as gr,
    ):
        yield Stack(gateway, cc, gr, cc_app, gr_app)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with in_process_stack() as running:
        yield running


@contextlib.contextmanager
def live_servers(
    cc_overrides: dict[str, Any] | None = None, **settings_overrides: Any
) -> Iterator[tuple[BackgroundServer, BackgroundServer, BackgroundServer]]:
    cc_app, gr_app = emulator_apps(**(cc_overrides or {}))
    with BackgroundServer(cc_app) as cc, BackgroundServer(gr_app) as gr:
        app = create_app(gateway_settings(cc.url, f"{gr.url}/", **settings_overrides))
        with BackgroundServer(app) as gateway:
            yield cc, gr, gateway


@pytest.fixture
async def live_stack() -> AsyncIterator[Stack]:
    with live_servers() as (cc, gr, gateway):
        async with (
            httpx.AsyncClient(base_url=gateway.url, timeout=30) as gateway_client,
            httpx.AsyncClient(base_url=cc.url) as cc_client,
            httpx.AsyncClient(base_url=gr.url) as gr_client,
        ):
            yield Stack(gateway_client, cc_client, gr_client, cc.app, gr.app)

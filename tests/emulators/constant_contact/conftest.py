"""Fixtures for the Constant Contact emulator tests.

``cc`` is the emulator behind a small REST helper, once in process (``httpx.ASGITransport``) and once
over real HTTP (``BackgroundServer``): every test that takes it runs both ways.  Override ``cc_settings``
with ``@pytest.mark.parametrize("cc_settings", [...])`` to change the emulator.

The default settings lift the per-second limit (the documented 4/s would make the suite crawl); the
tests of the limits themselves use the defaults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from starlette.applications import Starlette

from ...servers import ServerPool

ACCESS_TOKEN = "demo-cc-access-token"
SMALL_ACCOUNT = ConstantContactEmulatorSettings(seed=11, contacts=400, requests_per_second=10_000.0)
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@dataclass
class ConstantContact:
    """A test's handle on one emulator: authenticated REST calls and the control plane."""

    http: httpx.AsyncClient
    app: Starlette
    transport: str
    token: str = ACCESS_TOKEN

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    async def get(
        self, path: str, params: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self._headers(headers))

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self._headers(headers))

    async def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.put(path, json=body, headers=self._headers(headers))

    async def delete(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.delete(path, headers=self._headers(headers))

    async def ok(self, path: str, params: Any = None) -> Any:
        response = await self.get(path, params)
        assert response.status_code == 200, response.text
        return orjson.loads(response.content)

    async def pages(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every page of ``GET /v3/contacts``, following ``_links.next.href`` verbatim."""
        pages = [await self.ok("/v3/contacts", params)]
        while "_links" in pages[-1]:
            href = pages[-1]["_links"]["next"]["href"]
            assert href.startswith("/v3/contacts?cursor="), href
            pages.append(await self.ok(href))
        return pages

    async def listed(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [contact for page in await self.pages(params) for contact in page["contacts"]]

    async def ground_truth(self) -> dict[str, Any]:
        truth: dict[str, Any] = (await self.http.get("/_emulator/ground-truth")).json()
        return truth

    async def advance_clock(self, seconds: float) -> None:
        response = await self.http.post("/_emulator/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200

    async def operations(self) -> dict[str, int]:
        operations: dict[str, int] = (await self.http.get("/_emulator/requests")).json()["operations"]
        return operations


def contacts_with(truth: dict[str, Any], *statuses: str) -> list[dict[str, Any]]:
    return [c for c in truth["contacts"].values() if c["status"] in statuses]


@pytest.fixture
def cc_settings() -> ConstantContactEmulatorSettings:
    return SMALL_ACCOUNT


@pytest.fixture(params=["in_process", "real_http"])
def transport(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
async def cc(
    cc_settings: ConstantContactEmulatorSettings, transport: str, emulator_servers: ServerPool
) -> AsyncIterator[ConstantContact]:
    if transport == "in_process":
        app = create_app(cc_settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://cc.emulator"
        ) as http:
            yield ConstantContact(http, app, transport)
    else:
        server = emulator_servers.get(create_app, cc_settings)
        async with httpx.AsyncClient(base_url=server.url) as http:
            # A shared server starts every test from the seeded state, like a fresh one.
            assert (await http.post("/_emulator/reset")).status_code == 200
            yield ConstantContact(http, server.app, transport)  # type: ignore[arg-type]

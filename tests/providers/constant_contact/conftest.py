"""Fixtures for the Constant Contact client tests.

``make_client`` builds clients on any transport (``httpx.MockTransport`` for shapes the emulator never
produces) with fast retries and a high rate, and closes them at the end of the test.  Every request
those clients send is checked against CC's official Swagger file (``tests/cc_swagger.py``): a test
whose client sends one the contract does not allow fails at teardown, naming the request.

``cc`` is the Constant Contact emulator once in process (``httpx.ASGITransport``) and once over real
HTTP (``BackgroundServer``): every test that takes it runs both ways.  Override ``cc_settings`` with
``@pytest.mark.parametrize("cc_settings", [...], indirect=True)`` to change the emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from starlette.applications import Starlette

from gateway.core.model import Provider
from gateway.providers.constant_contact import ConstantContactClient, OAuthRefresh
from gateway.providers.resilience import CircuitBreaker, RetryPolicy, Timeouts
from gateway.serving import BackgroundServer

from ...cc_swagger import CheckingTransport
from ...servers import ServerPool

BASE_URL = "https://api.cc.email"
ACCESS_TOKEN = "demo-cc-access-token"
CLIENT_ID = "demo-cc-client"
CLIENT_SECRET = "demo-cc-secret"
REFRESH_TOKEN = "demo-cc-refresh-token"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005, budget=1.0)
FAST_TIMEOUTS = Timeouts(connect=1.0, read=1.0, total=1.0)
# Emulators that do not test limits run at a rate no test reaches; the client matches it.
FAST_EMULATOR = ConstantContactEmulatorSettings(seed=5, contacts=400, requests_per_second=1000.0)

ClientFactory = Callable[..., ConstantContactClient]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    made: list[ConstantContactClient] = []
    checked: list[CheckingTransport] = []

    def build(
        transport: httpx.AsyncBaseTransport | None = None, *, check_contract: bool = True, **overrides: Any
    ) -> ConstantContactClient:
        # Every request is checked against the official Swagger file, unless the test sends a
        # request the contract refuses on purpose (to see how the upstream answers it).
        checking = CheckingTransport(transport or httpx.AsyncHTTPTransport())
        if check_contract:
            checked.append(checking)
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "access_token": ACCESS_TOKEN,
            "transport": checking,
            "timeouts": FAST_TIMEOUTS,
            "retry": FAST_RETRY,
            "breaker": CircuitBreaker(Provider.CONSTANT_CONTACT, failure_threshold=50, reset_timeout=30.0),
            "rate_per_second": 1000.0,
            **overrides,
        }
        client = ConstantContactClient(**options)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()
    violations = [violation for transport in checked for violation in transport.violations]
    assert not violations, "requests that break the Swagger contract:\n" + "\n".join(violations[:20])


def oauth(token_url: str, refresh_token: str = REFRESH_TOKEN) -> OAuthRefresh:
    return OAuthRefresh(
        token_url=token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=refresh_token
    )


# -- the emulator ------------------------------------------------------------------------------------


@dataclass
class Emulator:
    """A test's handle on one emulator: its URL and transport for clients, and the control plane."""

    control: httpx.AsyncClient
    app: Starlette
    transport_name: str
    base_url: str
    server: BackgroundServer | None

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """What a client under test should use: the app itself in process, real sockets otherwise."""
        return httpx.ASGITransport(self.app) if self.server is None else None

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth2/default/v1/token"

    async def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = (await self.control.get("/_emulator/requests")).json()
        return counts

    async def operations(self) -> dict[str, int]:
        operations: dict[str, int] = (await self.counts())["operations"]
        return operations

    async def faults(self, **settings: Any) -> None:
        response = await self.control.put("/_emulator/faults", json=settings)
        assert response.status_code == 200, response.text

    async def ground_truth(self) -> Any:
        return (await self.control.get("/_emulator/ground-truth")).json()

    async def advance_clock(self, seconds: float) -> None:
        response = await self.control.post("/_emulator/clock", json={"advance_seconds": seconds})
        assert response.status_code == 200, response.text


@pytest.fixture
def cc_settings(request: pytest.FixtureRequest) -> ConstantContactEmulatorSettings:
    settings: ConstantContactEmulatorSettings = getattr(request, "param", FAST_EMULATOR)
    return settings


@pytest.fixture(params=["in_process", "real_http"])
def transport_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def cc(
    cc_settings: ConstantContactEmulatorSettings, transport_name: str, emulator_servers: ServerPool
) -> AsyncIterator[Emulator]:
    if transport_name == "in_process":
        app = create_app(cc_settings)
        base_url = "http://cc.emulator"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url) as control:
            yield Emulator(control, app, transport_name, base_url, None)
    else:
        server = emulator_servers.get(create_app, cc_settings)
        async with httpx.AsyncClient(base_url=server.url) as control:
            # A shared server starts every test from the seeded state, like a fresh one.
            assert (await control.post("/_emulator/reset")).status_code == 200
            yield Emulator(control, server.app, transport_name, server.url, server)  # type: ignore[arg-type]

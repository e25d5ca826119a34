"""Fixtures for the GetResponse client tests.

``emulator`` is the GetResponse 1.5 emulator once in process (``httpx.ASGITransport``) and once over
real HTTP (``BackgroundServer``): every test that takes it runs both ways.  ``emulator.client()``
builds a client on the same transport with fast retries (closed at the end of the test); the
``emulator.control`` client reaches the control plane (request counts, faults, ground truth) and can
post raw JSON-RPC.  Override ``gr_settings`` with ``@pytest.mark.parametrize("gr_settings", [...],
indirect=True)`` to change the emulator.

``make_client`` builds clients on any transport (``httpx.MockTransport`` for replies the emulator never
produces).  Every request a client built by either sends is checked against GetResponse's 1.5
documentation (``tests/gr_contract.py``): a test whose client sends a call the documentation does not
allow fails at teardown, naming the call (``check_contract=False`` for a test that sends one on
purpose).  Every test also proves that the API key never reached a log record (``caplog`` at DEBUG,
httpx and httpcore included), and ``secret_free`` checks an error's ``str``/``repr``/message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app
from starlette.applications import Starlette

from gateway.core.model import Provider
from gateway.providers.errors import ProviderError
from gateway.providers.getresponse import GetResponseClient
from gateway.providers.resilience import CircuitBreaker, RetryPolicy, Timeouts

from ...gr_contract import CheckingTransport
from ...servers import ServerPool

API_KEY = "gr-SECRET-api-key-7f3a9c51"
SETTINGS = GetResponseEmulatorSettings(seed=11, contacts=400, api_keys=(API_KEY,))
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005, budget=1.0)
FAST_TIMEOUTS = Timeouts(connect=1.0, read=1.0, total=1.0)
MOCK_URL = "https://api2.getresponse.test/"

ClientFactory = Callable[..., GetResponseClient]


def secret_free(error: BaseException) -> BaseException:
    """Assert the API key appears nowhere in what an error shows; returns the error."""
    shown = [str(error), repr(error), getattr(error, "message", "")]
    shown += [f"{d.key} {d.message}" for d in getattr(error, "details", ())]
    assert not any(API_KEY in text for text in shown), shown
    return error


def assert_documented(transports: list[CheckingTransport]) -> None:
    violations = [violation for transport in transports for violation in transport.violations]
    assert not violations, "calls the 1.5 documentation does not allow:\n" + "\n".join(violations[:20])


def checking(
    transport: httpx.AsyncBaseTransport | None, checked: list[CheckingTransport]
) -> CheckingTransport:
    """``transport`` (a real HTTP one when ``None``) with every request checked; recorded in ``checked``."""
    wrapped = CheckingTransport(transport or httpx.AsyncHTTPTransport())
    checked.append(wrapped)
    return wrapped


def client_options(**overrides: Any) -> dict[str, Any]:
    return {
        "api_key": API_KEY,
        "timeouts": FAST_TIMEOUTS,
        "retry": FAST_RETRY,
        "breaker": CircuitBreaker(Provider.GETRESPONSE, failure_threshold=50, reset_timeout=30.0),
        **overrides,
    }


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert API_KEY not in caplog.text


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    made: list[GetResponseClient] = []
    checked: list[CheckingTransport] = []

    def build(
        transport: httpx.AsyncBaseTransport | None = None, *, check_contract: bool = True, **overrides: Any
    ) -> GetResponseClient:
        if check_contract:
            transport = checking(transport, checked)
        client = GetResponseClient(
            **client_options(**{"api_url": MOCK_URL, "transport": transport, **overrides})
        )
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()
    assert_documented(checked)


@dataclass
class Emulator:
    """One emulator and the clients a test built against it."""

    mode: str
    app: Starlette
    control: httpx.AsyncClient
    api_url: str
    transport: httpx.AsyncBaseTransport | None
    clients: list[GetResponseClient] = field(default_factory=list)
    checked: list[CheckingTransport] = field(default_factory=list)

    def client(self, *, check_contract: bool = True, **overrides: Any) -> GetResponseClient:
        transport = overrides.pop("transport", self.transport)
        transport = checking(transport, self.checked) if check_contract else transport
        options = client_options(api_url=self.api_url, transport=transport, **overrides)
        client = GetResponseClient(**options)
        self.clients.append(client)
        return client

    async def requests(self) -> dict[str, Any]:
        log: dict[str, Any] = (await self.control.get("/_emulator/requests")).json()
        return log

    async def http_requests(self) -> int:
        count: int = (await self.requests())["http_requests"]
        return count

    async def reset_requests(self) -> None:
        assert (await self.control.post("/_emulator/requests/reset")).status_code == 200

    async def faults(self, **settings: Any) -> None:
        response = await self.control.put("/_emulator/faults", json=settings)
        assert response.status_code == 200, response.text

    async def ground_truth(self) -> dict[str, Any]:
        truth: dict[str, Any] = (await self.control.get("/_emulator/ground-truth")).json()
        return truth

    async def rpc(self, method: str, conditions: dict[str, Any] | None = None) -> Any:
        """A raw JSON-RPC call past the client, for comparing with what the client reports."""
        params: list[Any] = [API_KEY] if conditions is None else [API_KEY, conditions]
        reply = (
            await self.control.post("/", json={"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
        ).json()
        assert "error" not in reply, reply
        return reply["result"]


@pytest.fixture
def gr_settings(request: pytest.FixtureRequest) -> GetResponseEmulatorSettings:
    settings: GetResponseEmulatorSettings = getattr(request, "param", SETTINGS)
    return settings


@pytest.fixture(params=["in_process", "real_http"])
async def emulator(
    request: pytest.FixtureRequest, gr_settings: GetResponseEmulatorSettings, emulator_servers: ServerPool
) -> AsyncIterator[Emulator]:
    mode: str = request.param
    if mode == "in_process":
        app = create_app(gr_settings)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://gr.emulator"
        ) as http:
            emulator = Emulator(mode, app, http, "http://gr.emulator/", transport)
            yield emulator
            for client in emulator.clients:
                await client.aclose()
            assert_documented(emulator.checked)
    else:
        server = emulator_servers.get(create_app, gr_settings)
        async with httpx.AsyncClient(base_url=server.url) as http:
            # A shared server starts every test from the seeded state (and no faults), like a fresh one.
            assert (await http.post("/_emulator/reset")).status_code == 200
            emulator = Emulator(mode, server.app, http, f"{server.url}/", None)  # type: ignore[arg-type]
            yield emulator
            for client in emulator.clients:
                await client.aclose()
            assert_documented(emulator.checked)


def rpc_reply(request: httpx.Request, result: Any = None, **envelope: Any) -> dict[str, Any]:
    """A 2.0 reply to the single request in ``request``, with ``envelope`` overriding members."""
    sent = orjson.loads(request.content)
    reply: dict[str, Any] = {"jsonrpc": "2.0", "result": result, "id": sent["id"]}
    reply.update(envelope)
    return reply


@pytest.fixture
def errors_seen() -> Iterator[list[ProviderError]]:
    """Tests append every error they got; all are checked for the key at the end."""
    seen: list[ProviderError] = []
    yield seen
    for error in seen:
        secret_free(error)

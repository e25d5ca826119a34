"""The whole stack over real sockets: both emulators and the gateway, each a uvicorn server.

Every scenario runs against three real servers on ephemeral ports (``gateway.serving.BackgroundServer``):
the two emulators come from the session's ``emulator_servers`` pool (started once per distinct
settings, reset to their seed before each test) and the gateway is started fresh for each test, so no
cache, snapshot, breaker or idempotency record of one test is seen by the next.  ``stack`` is the
default stack; ``make_stack(cc_overrides=..., **settings)`` builds one with other emulator or gateway
settings.  Emulator state can also be read in process through ``Stack.cc_app`` / ``Stack.gr_app``,
the very app objects the servers run (same process, other thread).

In process (``httpx.ASGITransport``) is for a test that needs to reach inside the gateway: such a
test must carry ``@pytest.mark.in_process("why")`` and use ``in_process_stack``; any other e2e test
that builds an ``ASGITransport`` fails, so a scenario cannot slip back off the sockets unnoticed.

Constant Contact's limit of 4 requests per second would make every test wait, so the stacks here run
the emulator and the gateway's limiter at 100/s; the tests of the limit itself set it back to 4.
"""

from __future__ import annotations

import contextlib
import io
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr
from pydantic import SecretStr
from starlette.applications import Starlette

from gateway.admin import issue_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.core.principals import Scope
from gateway.serving import BackgroundServer
from gateway.store import Database, IssuedKey, KeyStore
from tests.speed_layer import SPEED_LAYER

from ..servers import ServerPool

FAST_RATE = 100.0
CC_TOKEN = "demo-cc-access-token"
GR_KEY = "demo-gr-api-key"
SEED = 7
CONTACTS = 600


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
        # Budgets are charged on every request (the code runs) but never bind, except where a test
        # gives a key limits of its own (tests/e2e/test_budgets.py).
        "principal_requests_per_minute": 10**6,
        "principal_daily_cost": 10**9,
        # The live path, unless a test asks for the index (whose backfill would otherwise race the
        # test's first query): tests/e2e/test_index*.py.
        "index": False,
        **overrides,
    }
    return Settings(**values)


ALL_SCOPES = tuple(scope.value for scope in Scope)


async def issue_service_key(
    settings: Settings, scopes: Sequence[str], *, name: str | None = None, **limits: int
) -> IssuedKey:
    """A new service key (``limits``: its own requests per minute, daily cost) in the database
    ``settings`` name (already migrated by a running gateway)."""
    database = Database.from_settings(settings)
    try:
        keys = KeyStore(database, touch_interval=settings.api_key_touch_seconds)
        return await keys.create(name or f"test-{uuid.uuid4().hex[:12]}", list(scopes), **limits)
    finally:
        await database.aclose()


async def issue_test_key(settings: Settings, scopes: Sequence[str], *, name: str | None = None) -> str:
    """The credential of a new service key (see :func:`issue_service_key`)."""
    return (await issue_service_key(settings, scopes, name=name)).credential


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    cc: httpx.AsyncClient
    gr: httpx.AsyncClient
    cc_app: Starlette
    gr_app: Starlette
    settings: Settings
    """The gateway's settings (its database: where a test issues keys of its own)."""

    async def key(self, *scopes: str | Scope) -> str:
        """A new service key for this gateway with these scopes."""
        return await issue_test_key(self.settings, [str(scope) for scope in scopes])

    async def named_key(self, name: str, *scopes: str, **limits: int) -> IssuedKey:
        """A new service key for this gateway, named, with these scopes and its own limits, if any."""
        return await issue_service_key(self.settings, scopes, name=name, **limits)

    def client(self, credential: str | None = None) -> httpx.AsyncClient:
        """A client of this gateway (over sockets) sending ``credential`` (none: anonymous); close it
        after use."""
        headers = {"authorization": f"Bearer {credential}"} if credential is not None else {}
        return httpx.AsyncClient(base_url=self.gateway.base_url, timeout=30, headers=headers)

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


def emulator_settings(
    **cc_overrides: Any,
) -> tuple[ConstantContactEmulatorSettings, GetResponseEmulatorSettings]:
    cc_settings: dict[str, Any] = {"requests_per_second": FAST_RATE, **cc_overrides}
    return (
        ConstantContactEmulatorSettings(seed=SEED, contacts=CONTACTS, **cc_settings),
        GetResponseEmulatorSettings(seed=SEED, contacts=CONTACTS),
    )


def emulator_apps(**cc_overrides: Any) -> tuple[Starlette, Starlette]:
    cc_settings, gr_settings = emulator_settings(**cc_overrides)
    return create_cc(cc_settings), create_gr(gr_settings)


def seeded_emulators(pool: ServerPool, **cc_overrides: Any) -> tuple[BackgroundServer, BackgroundServer]:
    """The pool's emulator servers for these settings, each reset to its seed (no faults, clock, counts)."""
    cc_settings, gr_settings = emulator_settings(**cc_overrides)
    servers = pool.get(create_cc, cc_settings), pool.get(create_gr, gr_settings)
    for server in servers:
        response = httpx.post(f"{server.url}/_emulator/reset", timeout=30)
        assert response.status_code == 200, response.text
    return servers


StackFactory = Callable[..., contextlib.AbstractAsyncContextManager[Stack]]


@pytest.fixture
def make_stack(emulator_servers: ServerPool) -> StackFactory:
    """``async with make_stack(cc_overrides={...}, **gateway_settings) as stack``: all over sockets."""

    @contextlib.asynccontextmanager
    async def running(
        cc_overrides: dict[str, Any] | None = None, **settings_overrides: Any
    ) -> AsyncIterator[Stack]:
        cc, gr = seeded_emulators(emulator_servers, **(cc_overrides or {}))
        settings = gateway_settings(cc.url, f"{gr.url}/", **settings_overrides)
        app = create_app(settings)
        # The gateway runs its lifespan in the server's own thread and loop, as it does in production.
        with BackgroundServer(app) as gateway:
            # Every stack authenticates as production does: a key with every scope, sent by default
            # (tests of authentication itself make their own keys and clients).
            key = await issue_test_key(settings, ALL_SCOPES)
            async with (
                httpx.AsyncClient(
                    base_url=gateway.url, timeout=30, headers={"authorization": f"Bearer {key}"}
                ) as gateway_client,
                httpx.AsyncClient(base_url=cc.url, timeout=30) as cc_client,
                httpx.AsyncClient(base_url=gr.url, timeout=30) as gr_client,
            ):
                yield Stack(
                    gateway_client,
                    cc_client,
                    gr_client,
                    cast(Starlette, cc.app),
                    cast(Starlette, gr.app),
                    settings,
                )

    return running


@pytest.fixture
async def stack(make_stack: StackFactory) -> AsyncIterator[Stack]:
    async with make_stack() as running:
        yield running


@pytest.fixture
async def live_stack(stack: Stack) -> Stack:
    """The same stack as ``stack`` (every e2e stack is live); kept for tests written when it was not."""
    return stack


@contextlib.contextmanager
def live_servers(
    pool: ServerPool, **settings_overrides: Any
) -> Iterator[tuple[BackgroundServer, BackgroundServer, BackgroundServer, str]]:
    """The pool's seeded emulators, a fresh gateway server and a key with every scope for it, for
    synchronous tests."""
    cc, gr = seeded_emulators(pool)
    settings = gateway_settings(cc.url, f"{gr.url}/", **settings_overrides)
    with BackgroundServer(create_app(settings)) as gateway:
        yield cc, gr, gateway, issue_key(settings, f"test-{uuid.uuid4().hex[:12]}", ALL_SCOPES).credential


# -- in process, only where a test must reach inside ----------------------------------------------------


@contextlib.asynccontextmanager
async def in_process_stack(
    cc_overrides: dict[str, Any] | None = None, **settings_overrides: Any
) -> AsyncIterator[Stack]:
    """Everything in process over ``httpx.ASGITransport``: only for tests marked ``in_process``."""
    cc_app, gr_app = emulator_apps(**(cc_overrides or {}))
    settings = gateway_settings("http://cc.emulator", "http://gr.emulator/", **settings_overrides)
    app = create_app(
        settings,
        constant_contact_transport=httpx.ASGITransport(cc_app),
        getresponse_transport=httpx.ASGITransport(gr_app),
    )
    async with app.router.lifespan_context(app):
        key = await issue_test_key(settings, ALL_SCOPES)
        headers = {"authorization": f"Bearer {key}"}
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://gateway", headers=headers
            ) as gateway,
            httpx.AsyncClient(transport=httpx.ASGITransport(cc_app), base_url="http://cc.emulator") as cc,
            httpx.AsyncClient(transport=httpx.ASGITransport(gr_app), base_url="http://gr.emulator") as gr,
        ):
            yield Stack(gateway, cc, gr, cc_app, gr_app, settings)


@pytest.fixture(autouse=True)
def _over_real_sockets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail an unmarked e2e test the moment it builds an in-process transport."""
    marker = request.node.get_closest_marker("in_process")
    if marker is not None:
        assert marker.args and isinstance(marker.args[0], str), "in_process needs a reason: in_process('why')"
        return

    def refuse(self: httpx.ASGITransport, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(
            "e2e scenarios run over real sockets: use the `stack` or `make_stack` fixture, or mark the "
            "test @pytest.mark.in_process('why it must reach inside')"
        )

    monkeypatch.setattr(httpx.ASGITransport, "__init__", refuse)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A stream for the gateway's log lines (``configure_logging(..., stream=captured)``); the root
    logger's handlers and level are put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])

"""Fixtures for the HTTP edge: the GraphQL endpoint over the real schema and fake provider ports.

``http`` is an ``httpx.AsyncClient`` on a small Starlette app wired like ``gateway.app`` (the endpoint
at /graphql for GET and POST, GraphiQL's routes), once in process (``httpx.ASGITransport``) and once
over real HTTP (one uvicorn ``BackgroundServer`` per session): every test taking it runs both ways.
``edge`` is the per-test state behind the app: the fake ports, the request ids the context getter saw,
and a switch that makes the context getter crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.core.model import DeletionReason, Provider
from gateway.core.principals import Caller
from gateway.core.services import Services
from gateway.core.snapshots import MemorySnapshotStore
from gateway.http import GraphiQL, GraphQLEndpoint, graphiql_routes
from gateway.schema.context import GatewayContext
from gateway.schema.schema import GatewaySchema, build_schema
from gateway.serving import BackgroundServer
from tests.schema.fakes import FakePort, make_contact
from tests.speed_layer import settings_under_test

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@dataclass
class Edge:
    """What one test controls and observes behind the app."""

    ports: dict[Provider, FakePort]
    request_ids: list[str] = field(default_factory=list)
    correlation_ids: list[str | None] = field(default_factory=list)
    crash_context: bool = False

    @property
    def services(self) -> Services:
        return Services(
            ports=self.ports,
            snapshots=MemorySnapshotStore(),
            max_page_size=100,
            getresponse=self.ports[Provider.GETRESPONSE],
        )


def make_edge() -> Edge:
    cc = [make_contact(Provider.CONSTANT_CONTACT, n, reason=DeletionReason.UNKNOWN) for n in range(0, 20, 2)]
    gr = [make_contact(Provider.GETRESPONSE, n) for n in range(1, 20, 2)]
    return Edge(
        {
            Provider.CONSTANT_CONTACT: FakePort(Provider.CONSTANT_CONTACT, cc),
            Provider.GETRESPONSE: FakePort(Provider.GETRESPONSE, gr),
        }
    )


SETTINGS = settings_under_test()
_SCHEMA: list[GatewaySchema] = []


def edge_schema() -> GatewaySchema:
    """One schema for every app here (building one per test would only cost time): default limits,
    the speed layer as the run asks (tests/speed_layer.py)."""
    if not _SCHEMA:
        _SCHEMA.append(build_schema(SETTINGS))
    return _SCHEMA[0]


def make_app(holder: dict[str, Edge], *, graphiql: GraphiQL | None = None, **endpoint: Any) -> Starlette:
    """An app wired like ``gateway.app.create_app``, its state read from ``holder["edge"]`` per request."""

    async def context_getter(request: Request, caller: Caller) -> GatewayContext:
        edge = holder["edge"]
        edge.request_ids.append(caller.request_id)
        edge.correlation_ids.append(caller.correlation_id)
        if edge.crash_context:
            raise RuntimeError("secret-token-123 leaked into an exception")
        return GatewayContext.create(edge.services, caller)

    endpoint = {"max_body_bytes": SETTINGS.max_body_bytes, **endpoint}
    graphql = GraphQLEndpoint(edge_schema(), context_getter=context_getter, graphiql=graphiql, **endpoint)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"]), *graphiql_routes(graphiql)])


class _LiveApp:
    def __init__(self) -> None:
        self.holder: dict[str, Edge] = {}
        self.server = BackgroundServer(make_app(self.holder)).start()


@pytest.fixture(scope="session")
def live_app() -> Iterator[_LiveApp]:
    live = _LiveApp()
    yield live
    live.server.stop()


@pytest.fixture(params=["in_process", "real_http"])
def transport(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def edge() -> Edge:
    return make_edge()


@pytest.fixture
async def http(transport: str, edge: Edge, live_app: _LiveApp) -> AsyncIterator[httpx.AsyncClient]:
    if transport == "in_process":
        holder = {"edge": edge}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(make_app(holder)), base_url="http://gateway"
        ) as client:
            yield client
    else:
        live_app.holder["edge"] = edge
        async with httpx.AsyncClient(base_url=live_app.server.url) as client:
            yield client

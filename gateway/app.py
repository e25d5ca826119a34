"""The ASGI application: GraphQL at /graphql (GraphiQL for browsers), /healthz, /readyz and /metrics.

``create_app`` takes the settings and, for tests and the demo, optional transports to reach the
providers in-process.  Each application builds its own schema from its settings (limits, speed layer),
so two applications in one process can differ.  The long-lived parts (the gateway's database, HTTP
clients, adapters, snapshot store) are built in the lifespan and closed on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
from prometheus_client import start_http_server
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .bootstrap import build_services, open_database
from .config import Settings
from .core.model import Provider
from .core.principals import Caller
from .core.services import Services
from .http import GraphQLEndpoint, graphiql_routes
from .http.metrics_endpoint import MetricsGuard, metrics_route
from .http.observation import ObservationMiddleware
from .http.request_id import RequestIdMiddleware
from .observability.graphql_extension import operation_observer
from .observability.metrics import GatewayMetrics
from .observability.tracing import Tracing, tracing_from_settings
from .observability.upstream import ObservedUpstream
from .schema.context import GatewayContext
from .schema.schema import GatewaySchema, build_schema

__all__ = ["create_app"]

logger = logging.getLogger("gateway")


def _json(payload: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


def create_app(
    settings: Settings | None = None,
    *,
    constant_contact_transport: httpx.AsyncBaseTransport | None = None,
    getresponse_transport: httpx.AsyncBaseTransport | None = None,
    schema: GatewaySchema | None = None,
    metrics_guard: MetricsGuard | None = None,
    tracing: Tracing | None = None,
) -> Starlette:
    """``schema`` replaces the one built from ``settings`` (benchmarks measure variants of it).

    ``metrics_guard`` decides who may scrape ``/metrics`` under ``METRICS=scope`` (required then).
    ``tracing`` replaces the tracing ``OTEL_EXPORTER_OTLP_ENDPOINT`` would give (tests export in memory).
    """
    settings = settings or Settings()
    holder: dict[str, Services] = {}
    if settings.metrics == "scope" and metrics_guard is None:
        raise ValueError("METRICS=scope needs a metrics guard (authentication) to check the scope")
    metrics = (
        None
        if settings.metrics == "off"
        else GatewayMetrics(operation_name_limit=settings.metrics_operation_names)
    )
    if metrics is not None:
        metrics.watch(lambda: holder.get("services"))
    tracing = tracing if tracing is not None else tracing_from_settings(settings)

    def services() -> Services:
        return holder["services"]

    async def context_getter(request: Request, caller: Caller) -> GatewayContext:
        return GatewayContext.create(services(), caller)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ports = services().ports
        report: dict[str, dict[str, object]] = {}
        for provider in Provider:
            if provider not in ports:
                report[provider.name] = {"configured": False}
                continue
            health = ports[provider].health()
            report[provider.name] = {
                "configured": True,
                "healthy": health.healthy,
                "circuit": health.circuit_state,
                "budgetRemaining": health.budget_remaining,
            }
        ready = any(v.get("healthy") for v in report.values())
        return _json(
            {"status": "ready" if ready else "unavailable", "providers": report}, 200 if ready else 503
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = await open_database(settings)
        try:
            holder["services"] = build_services(
                settings,
                database=database,
                constant_contact_transport=constant_contact_transport,
                getresponse_transport=getresponse_transport,
                upstream_observer=ObservedUpstream(metrics, tracing),
                batch_watch=tracing,
            )
            try:
                with _metrics_port(settings, metrics), _tracing_flushed(tracing):
                    yield
            finally:
                await holder.pop("services").aclose()
        finally:
            await database.aclose()

    endpoint = GraphQLEndpoint(
        schema or build_schema(settings, extensions=[operation_observer(tracing)]),
        context_getter=context_getter,
        max_body_bytes=settings.max_body_bytes,
    )
    routes = [
        Route("/graphql", endpoint),  # the endpoint answers other methods with its own GraphQL-shaped 405
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *graphiql_routes(),
    ]
    if metrics is not None and settings.metrics in ("open", "scope"):
        routes.append(metrics_route(metrics, metrics_guard if settings.metrics == "scope" else None))
    middleware = [
        # Outermost: its duration and access line cover everything, 404s and health checks included.
        Middleware(ObservationMiddleware, metrics=metrics, tracing=tracing, access_log=settings.access_log),
        Middleware(RequestIdMiddleware),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


@contextlib.contextmanager
def _metrics_port(settings: Settings, metrics: GatewayMetrics | None) -> Iterator[None]:
    """``METRICS=port``: the registry served on ``METRICS_PORT`` while the application runs."""
    if metrics is None or settings.metrics != "port":
        yield
        return
    server, thread = start_http_server(settings.metrics_port, registry=metrics.registry)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def _tracing_flushed(tracing: Tracing | None) -> Iterator[None]:
    try:
        yield
    finally:
        if tracing is not None:
            tracing.shutdown()

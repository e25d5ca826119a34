"""The ASGI application: GraphQL at /graphql (GraphiQL for browsers), /healthz, /readyz and /metrics.

With ``AUTH_MODE=on`` (the default) every GraphQL request is authenticated (``gateway.http.
authentication``); with ``off`` every request acts as the local principal, with every scope.

``create_app`` takes the settings and, for tests and the demo, optional transports to reach the
providers in-process.  Each application builds its own schema from its settings (limits, speed layer),
so two applications in one process can differ.  The long-lived parts (the gateway's database, HTTP
clients, adapters, snapshot store) are built in the lifespan and closed on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import orjson
from prometheus_client import start_http_server
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from .bootstrap import build_services, build_sync_worker, open_database, run_sync_with_webhooks
from .config import Settings
from .core.persisted_documents import load_manifest
from .core.principals import Caller, Principal, Scope
from .core.readiness import assess
from .core.services import Services
from .feed import FeedHub, UnsubscribeCallback
from .http import GraphiQL, GraphQLEndpoint, graphiql_routes
from .http.authentication import Authenticator, scope_guard
from .http.callbacks import getresponse_callback_route
from .http.documents import DocumentResolver
from .http.metrics_endpoint import MetricsGuard, metrics_route
from .http.observation import ObservationMiddleware
from .http.request_id import CORRELATION_ID_HEADER, REQUEST_ID_HEADER, RequestIdMiddleware
from .http.subscriptions import EventStreamSwitch, SubscriptionEvents, SubscriptionSocket
from .observability.audit import CountedAuditTrail
from .observability.graphql_extension import operation_observer
from .observability.metrics import GatewayMetrics
from .observability.tracing import Tracing, tracing_from_settings
from .observability.upstream import ObservedUpstream
from .schema.context import GatewayContext
from .schema.schema import GatewaySchema, build_schema
from .schema.subscriptions import FeedContext
from .store import Database
from .store.outbox import DatabaseEventLog
from .sync import ProviderSync
from .sync.progress import ProgressLines

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
    graphiql: GraphiQL | None = None,
    metrics_guard: MetricsGuard | None = None,
    tracing: Tracing | None = None,
) -> Starlette:
    """``schema`` replaces the one built from ``settings`` (benchmarks measure variants of it);
    ``graphiql`` the default page (``gateway demo`` pre-fills its key in it).

    ``metrics_guard`` decides who may scrape ``/metrics`` under ``METRICS=scope`` (default: a
    credential with the ``metrics:read`` scope).  ``tracing`` replaces the tracing
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` would give (tests export in memory).
    """
    settings = settings or Settings()
    holder: dict[str, Services] = {}
    holder_database: dict[str, Database] = {}
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

    # The deletion feed (issue 17): one outbox poller per process, and GetResponse's callback.
    holder_feed: dict[str, FeedHub] = {}
    holder_callback: dict[str, UnsubscribeCallback] = {}

    def feed_context(caller: Caller) -> FeedContext:
        return FeedContext.for_caller(services(), caller, holder_feed.get("feed"))

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        current = services()
        stores = {"database": holder_database["database"].check, "snapshots": current.snapshots.check}
        readiness = await assess(current.ports, stores, timeout=settings.readiness_timeout_seconds)
        body = {
            "status": "ready" if readiness.ready else "unavailable",
            "reasons": readiness.reasons,
            "providers": readiness.providers,
        }
        return _json(body, 200 if readiness.ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = await open_database(settings)
        holder_database["database"] = database
        try:
            holder["services"] = build_services(
                settings,
                database=database,
                constant_contact_transport=constant_contact_transport,
                getresponse_transport=getresponse_transport,
                upstream_observer=ObservedUpstream(metrics, tracing),
                batch_watch=tracing,
            )
            if metrics is not None:
                holder["services"].audit = CountedAuditTrail(holder["services"].audit, metrics)
            sync = _in_process_sync(settings, holder["services"], database, metrics)
            feed = holder_feed["feed"] = _feed(settings, database)
            holder_callback["callback"] = UnsubscribeCallback(
                DatabaseEventLog(database),
                settings.getresponse_callback_secret.get_secret_value()
                if settings.getresponse_callback_secret is not None
                else None,
            )
            try:
                with _metrics_port(settings, metrics), _tracing_flushed(tracing):
                    yield
            finally:
                await feed.aclose()
                if sync is not None:
                    sync.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sync
                await holder.pop("services").aclose()
        finally:
            await database.aclose()

    authenticator = None
    if settings.auth_mode == "on":
        authenticator = Authenticator(
            lambda: services().credentials, max_length=settings.auth_max_token_length
        )
    if settings.metrics == "scope" and metrics_guard is None:
        if authenticator is None:
            raise ValueError("METRICS=scope needs authentication (AUTH_MODE=on) to check the scope")
        metrics_guard = scope_guard(authenticator, Scope.METRICS_READ)
    documents = DocumentResolver(
        store=(lambda: services().persisted_documents) if settings.persisted_queries else None,
        # Read at start: a missing or wrong manifest stops the gateway instead of refusing every query.
        trusted=load_manifest(settings.trusted_documents) if settings.trusted_documents else None,
        max_document_bytes=settings.max_body_bytes,
        max_query_tokens=settings.max_query_tokens,
    )
    schema = schema or build_schema(settings, extensions=[operation_observer(tracing)])
    endpoint = GraphQLEndpoint(
        schema,
        context_getter=context_getter,
        max_body_bytes=settings.max_body_bytes,
        authenticate=authenticator,
        graphiql=graphiql,
        documents=documents,
        deadline_seconds=settings.request_deadline_seconds,
    )
    events = _event_streams(settings, schema, authenticator, feed_context, documents)
    socket = _subscription_socket(settings, schema, authenticator, feed_context, documents)
    routes = [
        # the endpoint answers other methods with its own GraphQL-shaped 405; Accept: text/event-stream
        # is GraphQL over SSE (subscriptions), a WebSocket upgrade is graphql-transport-ws
        Route("/graphql", EventStreamSwitch(endpoint, events)),
        WebSocketRoute("/graphql", socket),
        getresponse_callback_route(lambda: holder_callback["callback"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *graphiql_routes(graphiql),
    ]
    if metrics is not None and settings.metrics in ("open", "scope"):
        routes.append(metrics_route(metrics, metrics_guard if settings.metrics == "scope" else None))
    return Starlette(routes=routes, lifespan=lifespan, middleware=_middleware(settings, metrics, tracing))


def _feed(settings: Settings, database: Database) -> FeedHub:
    """This process's feed poller, started (``FEED_*`` settings)."""
    feed = FeedHub(
        DatabaseEventLog(database),
        poll_seconds=settings.feed_poll_seconds,
        batch_size=settings.feed_batch_size,
        queue_size=settings.feed_subscriber_queue_size,
        max_per_principal=settings.feed_max_subscriptions_per_principal,
    )
    feed.start()
    return feed


def _event_streams(
    settings: Settings,
    schema: GatewaySchema,
    authenticator: Authenticator | None,
    context: Callable[[Caller], FeedContext],
    documents: DocumentResolver,
) -> SubscriptionEvents:
    return SubscriptionEvents(
        schema,
        authenticate=authenticator or _local,
        context_getter=context,
        max_body_bytes=settings.max_body_bytes,
        documents=documents,
        keepalive_seconds=settings.feed_keepalive_seconds,
    )


def _subscription_socket(
    settings: Settings,
    schema: GatewaySchema,
    authenticator: Authenticator | None,
    context: Callable[[Caller], FeedContext],
    documents: DocumentResolver,
) -> SubscriptionSocket:
    return SubscriptionSocket(
        schema,
        authenticate=authenticator or _local,
        context_getter=context,
        documents=documents,
        connection_init_wait_seconds=settings.feed_connection_init_seconds,
        max_subscriptions_per_connection=settings.feed_max_subscriptions_per_principal,
        allowed_origins=settings.cors_allow_origins,
        max_connections_per_principal=settings.feed_max_connections_per_principal,
    )


async def _local(request: Request) -> Principal:
    return Principal.local()


def _in_process_sync(
    settings: Settings, services: Services, database: Database, metrics: GatewayMetrics | None
) -> asyncio.Task[None] | None:
    """The sync loop as a task of this process (``SYNC_IN_PROCESS``); None without an index."""
    if not settings.sync_in_process:
        return None
    worker = build_sync_worker(
        settings,
        services,
        database,
        on_report=metrics.observe_sync if metrics is not None else None,
        on_progress=ProgressLines(10.0, logging.getLogger("gateway.sync").info),
        on_failure=(
            (lambda sync, error: metrics.observe_sync_failure(sync.provider, _kind(sync)))
            if metrics is not None
            else None
        ),
    )
    if worker is None:
        return None
    # The webhook dispatcher runs beside the loop, while this process leads the sync.
    return asyncio.create_task(
        run_sync_with_webhooks(settings, services, database, worker), name="index-sync"
    )


def _kind(sync: ProviderSync) -> str:
    return sync.running.value if sync.running is not None else "unknown"


def _middleware(
    settings: Settings, metrics: GatewayMetrics | None, tracing: Tracing | None
) -> list[Middleware]:
    """Around every route: observation (outermost: its duration and access line cover everything,
    404s and health checks included), request ids, CORS for the configured origins, gzip."""
    middleware = [
        Middleware(ObservationMiddleware, metrics=metrics, tracing=tracing, access_log=settings.access_log),
        Middleware(RequestIdMiddleware),
    ]
    if settings.cors_allow_origins:
        # No cookies are involved (credentials are bearer headers), so credentials stay disallowed.
        # A browser must preflight any request carrying Authorization, so a page on an origin not
        # listed here can neither read answers nor send authenticated queries, GET included.
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_allow_origins,
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "accept",
                    "x-request-id",
                    "apollo-require-preflight",
                    "x-apollo-operation-name",
                ],
                expose_headers=[REQUEST_ID_HEADER, CORRELATION_ID_HEADER],
                max_age=settings.cors_max_age_seconds,
            )
        )
    if settings.compression_minimum_bytes > 0:
        middleware.append(Middleware(GZipMiddleware, minimum_size=settings.compression_minimum_bytes))
    return middleware


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

"""``/metrics``: the registry in Prometheus' text format, open or behind a guard (``METRICS``).

``METRICS=open`` serves it to anyone who reaches the port (put it behind the network's own
controls); ``METRICS=scope`` asks the application's guard first -- a callable the composition of
authentication provides, answering ``None`` to let the scrape through or the response to send
instead (401, 403); ``METRICS=port`` serves it on a port of its own instead (see ``gateway/app.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.observability.metrics import GatewayMetrics

__all__ = ["MetricsGuard", "metrics_route"]

MetricsGuard = Callable[[Request], Awaitable[Response | None]]
"""``None``: the scrape may proceed; a response: what to answer instead."""


def metrics_route(metrics: GatewayMetrics, guard: MetricsGuard | None = None) -> Route:
    async def scrape(request: Request) -> Response:
        if guard is not None and (refusal := await guard(request)) is not None:
            return refusal
        return Response(
            metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )

    return Route("/metrics", scrape, methods=["GET"])

"""Who may read /metrics (``METRICS=open|off|port|scope``) and how operation names are bounded."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.admin import issue_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.metrics import ANONYMOUS, OTHER, OperationNames
from gateway.serving import BackgroundServer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_open_metrics_are_served_beside_graphql() -> None:
    with BackgroundServer(create_app(Settings(metrics="open"))) as server:
        response = httpx.get(f"{server.url}/metrics")
        assert response.status_code == 200
        assert "gateway_graphql_requests_total" in response.text
        assert response.headers["x-request-id"]


def test_metrics_off_is_a_404_and_nothing_is_registered() -> None:
    with BackgroundServer(create_app(Settings(metrics="off"))) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        # The application still answers and still writes its access line without a registry.
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_metrics_on_their_own_port_only() -> None:
    port = _free_port()
    with BackgroundServer(create_app(Settings(metrics="port", metrics_port=port))) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        response = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        assert "gateway_upstream_breaker_state" in response.text
    with pytest.raises(httpx.ConnectError):  # stopped with the application
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_scope_mode_needs_authentication() -> None:
    with pytest.raises(ValueError, match="METRICS=scope"):
        create_app(Settings(metrics="scope", auth_mode="off"))


def test_scope_mode_lets_a_credential_with_metrics_read_scrape() -> None:
    settings = Settings(metrics="scope")
    with BackgroundServer(create_app(settings)) as server:
        reader = issue_key(settings, "prometheus", ["metrics:read"]).credential
        other = issue_key(settings, "support", ["contacts:read"]).credential
        anonymous = httpx.get(f"{server.url}/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        refused = httpx.get(f"{server.url}/metrics", headers={"authorization": f"Bearer {other}"})
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        allowed = httpx.get(f"{server.url}/metrics", headers={"authorization": f"Bearer {reader}"})
        assert allowed.status_code == 200
        assert "gateway_graphql_errors_total" in allowed.text


def test_a_guard_may_be_given() -> None:
    async def guard(request: Request) -> Response | None:
        if request.headers.get("x-scraper") == "yes":
            return None
        return PlainTextResponse("forbidden", status_code=403)

    with BackgroundServer(create_app(Settings(metrics="scope"), metrics_guard=guard)) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 403
        assert httpx.get(f"{server.url}/metrics", headers={"x-scraper": "yes"}).status_code == 200


def test_operation_names_are_bounded() -> None:
    names = OperationNames(limit=2)
    assert names.label(None) == ANONYMOUS
    assert names.label("First") == "First"
    assert names.label("Second") == "Second"
    assert names.label("Third") == OTHER  # past the limit
    assert names.label("First") == "First"  # known names keep their series
    assert OperationNames(limit=5).label("not a name\n") == OTHER

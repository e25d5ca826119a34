"""The Grafana dashboard in deploy/grafana parses, is importable as is, and charts only real metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config import Settings

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "gateway-dashboard.json"
_METRIC = re.compile(r"\bgateway_[a-z0-9_]+\b")
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def _exposed_names() -> set[str]:
    app = create_app(Settings())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        text = (await client.get("/metrics")).text
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(f"{family.name}{suffix}" for suffix in _SUFFIXES.get(family.type, ("",)))
    return names


def test_the_dashboard_is_an_importable_grafana_model() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        # Every query names the dashboard's own data-source variable: nothing to remap on import.
        for target in panel["targets"]:
            assert target["datasource"]["uid"].strip("${}") in variables


async def test_every_metric_the_dashboard_charts_is_exposed() -> None:
    charted = {
        name
        for expression in _expressions(json.loads(DASHBOARD.read_text()))
        for name in _METRIC.findall(expression)
    }
    exposed = await _exposed_names()
    assert charted, "the dashboard charts nothing"
    assert charted - exposed == set()
    # And each family the gateway exposes is charted somewhere.
    families = {re.sub(r"(_total|_bucket|_sum|_count)$", "", name) for name in exposed}
    assert families - {re.sub(r"(_total|_bucket|_sum|_count)$", "", name) for name in charted} == set()

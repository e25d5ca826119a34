"""Limits are per application: two apps in one process, built from different ``Settings``, each keep
their own depth, alias, token and body limits (the schema is built per app, not once per process)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.speed_layer import settings_under_test

DEEP = "{ providers { rateBudget { dailyLimit } } }"  # depth 2 (the root selection is 0)
ALIASED = "{ a: providers { provider } b: providers { provider } c: providers { provider } }"
WORDY = "{ providers { provider configured healthy circuitState } }"  # 12 tokens


@contextlib.asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # Limits are checked after authentication, which these tests are not about: it is off.
    app = create_app(settings.model_copy(update={"auth_mode": "off"}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        yield client


async def _post(client: httpx.AsyncClient, query: str, **extra: Any) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, **extra}, headers={"accept": "application/graphql-response+json"}
    )


def _messages(response: httpx.Response) -> list[str]:
    return [error["message"] for error in response.json().get("errors", [])]


@pytest.mark.parametrize(
    ("query", "limit", "message"),
    [
        (DEEP, {"max_query_depth": 1}, "exceeds maximum operation depth of 1"),
        (ALIASED, {"max_aliases": 2}, "3 aliases found. Allowed: 2"),
        (WORDY, {"max_query_tokens": 8}, "Document contains more than 8 tokens"),
    ],
)
async def test_two_apps_in_one_process_keep_their_own_limits(
    query: str, limit: dict[str, int], message: str
) -> None:
    async with _client(settings_under_test(**limit)) as strict, _client(settings_under_test()) as default:
        for _ in range(2):  # a new text, then a known one (the speed layer's caches are per app too)
            refused = await _post(strict, query)
            assert refused.status_code == 400, refused.text
            assert any(message in m for m in _messages(refused)), _messages(refused)
            answered = await _post(default, query)
            assert answered.status_code == 200 and answered.json()["data"] is not None, answered.text


async def test_two_apps_in_one_process_keep_their_own_body_limit() -> None:
    query = "{ providers { provider } }"
    padding = "x" * 400
    async with (
        _client(settings_under_test(max_body_bytes=300)) as strict,
        _client(settings_under_test()) as default,
    ):
        refused = await _post(strict, query, padding=padding)
        assert refused.status_code == 413, refused.text
        assert (await _post(default, query, padding=padding)).status_code == 200
        assert (await _post(strict, query)).status_code == 200  # under its limit

"""Two gateway replicas behind a load balancer share paging snapshots through a real Redis server."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.app import create_app

from .conftest import emulator_apps, gateway_settings

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PAGE = """
query($after: String) {
  deletedContacts(first: 60, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}
"""


@contextlib.asynccontextmanager
async def two_replicas(**settings_overrides: Any) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two gateways over the same emulators, each with its own process-level state."""
    cc_app, gr_app = emulator_apps()
    settings = gateway_settings("http://cc.emulator", "http://gr.emulator/", **settings_overrides)
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            app = create_app(
                settings,
                constant_contact_transport=httpx.ASGITransport(cc_app),
                getresponse_transport=httpx.ASGITransport(gr_app),
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{name}")
            clients.append(await stack.enter_async_context(client))
        yield clients


async def _page(client: httpx.AsyncClient, after: str | None) -> dict[str, Any]:
    body: dict[str, Any] = (
        await client.post("/graphql", json={"query": PAGE, "variables": {"after": after}})
    ).json()
    return body


async def test_a_cursor_from_one_replica_pages_on_the_other() -> None:
    async with two_replicas(redis_url=REDIS_URL) as clients:
        seen: list[str] = []
        after = None
        turn = 0
        while True:
            body = await _page(clients[turn % 2], after)
            assert "errors" not in body, body
            connection = body["data"]["deletedContacts"]
            seen += [e["node"]["id"] for e in connection["edges"]]
            turn += 1
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    assert turn > 2
    assert len(seen) == len(set(seen)) == connection["totalCount"]


async def test_without_shared_redis_the_other_replica_says_cursor_expired() -> None:
    async with two_replicas() as (first, second):
        cursor = (await _page(first, None))["data"]["deletedContacts"]["pageInfo"]["endCursor"]
        other = await _page(second, cursor)
    assert [e["extensions"]["code"] for e in other["errors"]] == ["CURSOR_EXPIRED"]

"""Two gateway replicas, each a process of its own, share paging snapshots through a real Redis server.

Each replica is ``gateway serve`` in its own process (``processes.GatewayProcess``), configured by
environment variables to reach the emulators' real ports; the test alternates between them as a load
balancer would.  Redis is the one on 127.0.0.1:6379 (``TEST_REDIS_URL`` to change it), in a database
number no other test uses; the snapshots a test made are deleted at its end.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import redis

from gateway.admin import issue_key
from gateway.core.snapshots import decode_cursor

from ..servers import ServerPool
from .conftest import ALL_SCOPES, gateway_settings, seeded_emulators
from .processes import GatewayProcess

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
PAGE = """
query($after: String) {
  deletedContacts(first: 60, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}
"""


@contextlib.contextmanager
def two_replicas(pool: ServerPool, **settings_overrides: Any) -> Iterator[list[httpx.Client]]:
    """Two gateway processes over the same emulator servers, each with its own process-level state."""
    cc, gr = seeded_emulators(pool)
    settings = gateway_settings(cc.url, f"{gr.url}/", **settings_overrides)
    with contextlib.ExitStack() as stack:
        replicas = [stack.enter_context(GatewayProcess(settings)) for _ in range(2)]  # both start at once
        urls = [replica.wait_until_serving() for replica in replicas]
        headers = {"authorization": f"Bearer {issue_key(settings, 'replicas', ALL_SCOPES).credential}"}
        yield [stack.enter_context(httpx.Client(base_url=url, timeout=30, headers=headers)) for url in urls]


def _page(client: httpx.Client, after: str | None) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": PAGE, "variables": {"after": after}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextlib.contextmanager
def snapshots_deleted_afterwards(cursors: list[str]) -> Iterator[None]:
    """Delete from Redis the snapshots ``cursors`` name (filled in by the test), and only those."""
    try:
        yield
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            for snapshot_id in {decode_cursor(cursor)[0] for cursor in cursors}:
                keys = list(client.scan_iter(match=f"*{snapshot_id}*"))
                assert keys, f"snapshot {snapshot_id} is not in {REDIS_URL}"
                client.delete(*keys)
        finally:
            client.close()


def test_a_cursor_from_one_replica_pages_on_the_other(emulator_servers: ServerPool) -> None:
    cursors: list[str] = []
    with (
        snapshots_deleted_afterwards(cursors),
        two_replicas(emulator_servers, redis_url=REDIS_URL) as replicas,
    ):
        seen: list[str] = []
        after = None
        turn = 0
        while True:
            body = _page(replicas[turn % 2], after)
            assert "errors" not in body, body
            connection = body["data"]["deletedContacts"]
            seen += [e["node"]["id"] for e in connection["edges"]]
            turn += 1
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
            cursors.append(after)
    assert turn > 2
    assert len(seen) == len(set(seen)) == connection["totalCount"]


def test_without_shared_redis_the_other_replica_says_cursor_expired(emulator_servers: ServerPool) -> None:
    with two_replicas(emulator_servers) as (first, second):
        cursor = _page(first, None)["data"]["deletedContacts"]["pageInfo"]["endCursor"]
        other = _page(second, cursor)
        assert "errors" not in _page(first, cursor)  # the replica that made it still pages on
    assert [e["extensions"]["code"] for e in other["errors"]] == ["CURSOR_EXPIRED"]

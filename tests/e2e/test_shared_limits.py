"""Three gateway replicas sharing one Constant Contact token keep to its 4 requests/s together.

Each replica is ``gateway serve`` in its own process (``processes.GatewayProcess``) with the documented
limit of 4 calls/s; the Constant Contact emulator enforces the same real limit (a bucket of 4 refilled
at 4/s, answering 429 ``throttled`` past it).  A burst of first pages, each with its own address filter
and so each one Constant Contact call, is spread over the three replicas at once.

With ``REDIS_URL`` the replicas reserve their slots in one Redis (127.0.0.1:6379, database 12, which no
other test uses, so the test deletes its snapshots there too; ``TEST_SHARED_LIMITS_REDIS_URL`` to change
it): the emulator answers no 429 at all,
and the calls arrive at no more than the limit.  Without Redis each replica spends the whole rate on
its own, and the emulator throttles them: the control that shows the first test can fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import redis

from gateway.admin import issue_key
from gateway.core.model import Provider
from gateway.providers.shared_allowance import token_key_prefix

from ..servers import ServerPool
from .conftest import ALL_SCOPES, CC_TOKEN, gateway_settings, seeded_emulators
from .processes import GatewayProcess

REDIS_URL = os.environ.get("TEST_SHARED_LIMITS_REDIS_URL", "redis://127.0.0.1:6379/12")
DOCUMENTED_RATE = 4.0
REPLICAS = 3
FIRST_PAGE = """
query($email: String!) {
  deletedContacts(
    first: 5
    filter: {providers: [CONSTANT_CONTACT], email: [{operator: EQUALS, value: $email}]}
  ) {
    totalCount edges { node { id } }
  }
}
"""


def _delete_test_keys() -> None:
    """The token's allowance keys and the paging snapshots the burst's first pages left in Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"{token_key_prefix(Provider.CONSTANT_CONTACT, CC_TOKEN)}*", "dcg:snapshot:*"):
            keys = list(client.scan_iter(match=pattern))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


@contextlib.contextmanager
def replicas_at_the_real_limit(
    pool: ServerPool, **overrides: Any
) -> Iterator[tuple[list[str], httpx.Client, str]]:
    """Three replicas' URLs, a client of the emulator, and a key every replica accepts."""
    cc, gr = seeded_emulators(pool, requests_per_second=DOCUMENTED_RATE)
    settings = gateway_settings(
        cc.url,
        f"{gr.url}/",
        constant_contact_rate_per_second=DOCUMENTED_RATE,
        provider_total_timeout=10.0,
        provider_read_timeout=10.0,
        **overrides,
    )
    _delete_test_keys()
    try:
        with contextlib.ExitStack() as stack:
            processes = [stack.enter_context(GatewayProcess(settings)) for _ in range(REPLICAS)]
            urls = [process.wait_until_serving() for process in processes]
            key = issue_key(settings, f"shared-limits-{uuid.uuid4().hex[:8]}", ALL_SCOPES).credential
            emulator = stack.enter_context(httpx.Client(base_url=cc.url, timeout=30))
            yield urls, emulator, key
    finally:
        _delete_test_keys()


async def _burst(urls: list[str], key: str, count: int) -> tuple[list[dict[str, Any]], float]:
    """``count`` first pages with distinct filters, spread round-robin over the replicas, all at once."""
    headers = {"authorization": f"Bearer {key}"}
    clients = [httpx.AsyncClient(base_url=url, timeout=60, headers=headers) for url in urls]
    try:

        async def page(number: int) -> dict[str, Any]:
            variables = {"email": f"nobody-{number}@example.com"}
            response = await clients[number % len(clients)].post(
                "/graphql", json={"query": FIRST_PAGE, "variables": variables}
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        started = time.monotonic()
        bodies = await asyncio.gather(*(page(n) for n in range(count)))
        return bodies, time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()


def _throttled(emulator: httpx.Client) -> tuple[int, int]:
    """Constant Contact calls the emulator saw, and how many it refused with a 429."""
    counts = emulator.get("/_emulator/requests").json()
    operations = counts["operations"]
    return counts["http_requests"], operations.get("throttled", 0) + operations.get("quota_exceeded", 0)


def test_three_replicas_sharing_redis_cause_no_429(emulator_servers: ServerPool) -> None:
    burst = 48
    with replicas_at_the_real_limit(emulator_servers, redis_url=REDIS_URL) as (urls, emulator, key):
        emulator.post("/_emulator/requests/reset")
        time.sleep(1.5)  # the emulator's bucket is full again: the burst starts from a known state
        bodies, elapsed = asyncio.run(_burst(urls, key, burst))
        calls, refused = _throttled(emulator)
    assert all("errors" not in body for body in bodies), [b for b in bodies if "errors" in b][:2]
    assert calls >= burst  # each distinct filter reached Constant Contact
    assert refused == 0
    # Spaced at the shared rate: never faster than the documented limit allows (with slack for the
    # first slot, which needs no wait).
    assert calls / elapsed <= DOCUMENTED_RATE * 1.1, (calls, elapsed)


def test_without_redis_each_replica_spends_the_rate_alone_and_is_throttled(
    emulator_servers: ServerPool,
) -> None:
    with replicas_at_the_real_limit(emulator_servers) as (urls, emulator, key):
        emulator.post("/_emulator/requests/reset")
        time.sleep(1.5)
        asyncio.run(_burst(urls, key, 24))
        _, refused = _throttled(emulator)
    assert refused > 0

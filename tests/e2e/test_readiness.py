"""``/readyz`` tells the truth, over real HTTP: 503 with the reasons when no configured provider can
be used (credentials rejected, circuit open, daily budget spent) or a configured store (the database,
Redis) cannot be reached; 200 again once fixed.  ``/healthz`` stays a liveness check throughout."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import SecretStr

from ..databases import POSTGRES_ADMIN_URL, fresh_database_url
from .conftest import Stack, StackFactory

LIST = "{ deletedContacts(first: 5) { totalCount } }"


async def readiness(stack: Stack) -> tuple[int, dict[str, Any]]:
    response = await stack.gateway.get("/readyz")
    assert (await stack.gateway.get("/healthz")).status_code == 200
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def faults(stack: Stack, **settings: Any) -> None:
    await stack.faults("cc", **settings)
    await stack.faults("gr", **settings)


async def test_credentials_rejected_by_both_providers_make_it_unready_until_fixed(
    make_stack: StackFactory,
) -> None:
    async with make_stack(breaker_reset_seconds=1.0) as stack:
        assert (await readiness(stack))[0] == 200
        await faults(stack, error_rate=1.0, error_status=401)
        await stack.gateway.post("/graphql", json={"query": LIST})
        status, body = await readiness(stack)
        assert status == 503
        assert "CONSTANT_CONTACT: credentials rejected by the provider" in body["reasons"]
        assert "GETRESPONSE: credentials rejected by the provider" in body["reasons"]
        assert "no configured provider can be used" in body["reasons"]
        await faults(stack, error_rate=0.0)
        await asyncio.sleep(1.1)  # the rejection lapses like an open circuit, so traffic can prove the fix
        assert (await readiness(stack))[0] == 200
        assert "errors" not in await stack.graphql(LIST)
        assert (await readiness(stack))[1]["reasons"] == []


async def test_open_circuits_make_it_unready_until_they_close(make_stack: StackFactory) -> None:
    async with make_stack(breaker_failure_threshold=1, breaker_reset_seconds=1.0) as stack:
        await faults(stack, error_rate=1.0, error_status=503)
        await stack.gateway.post("/graphql", json={"query": LIST})
        status, body = await readiness(stack)
        assert status == 503
        assert {"CONSTANT_CONTACT: circuit open after repeated failures",
                "GETRESPONSE: circuit open after repeated failures"} <= set(body["reasons"])  # fmt: skip
        await faults(stack, error_rate=0.0)
        await asyncio.sleep(1.1)
        assert "errors" not in await stack.graphql(LIST)
        assert (await readiness(stack))[0] == 200


async def test_a_spent_daily_budget_is_a_reason_and_unready_when_it_was_the_only_provider(
    make_stack: StackFactory,
) -> None:
    async with make_stack(constant_contact_daily_quota=1, getresponse_api_key=None) as stack:
        await stack.gateway.post("/graphql", json={"query": LIST})
        status, body = await readiness(stack)
        assert status == 503
        assert "CONSTANT_CONTACT: daily request budget spent" in body["reasons"]
        assert body["providers"]["GETRESPONSE"] == {"configured": False}
    async with make_stack(constant_contact_daily_quota=1) as stack:  # GetResponse still serves
        await stack.gateway.post("/graphql", json={"query": LIST})
        status, body = await readiness(stack)
        assert status == 200
        assert body["reasons"] == ["CONSTANT_CONTACT: daily request budget spent"]


@contextlib.contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis server of this test's own (the machine's ``redis-server``), keeping nothing on disk."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_redis_makes_it_unready_until_it_is_back(make_stack: StackFactory) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    async with make_stack(redis_url=url, readiness_timeout_seconds=1.0) as stack:
        with redis_server(port):
            assert (await readiness(stack))[0] == 200
        status, body = await readiness(stack)  # the server is gone
        assert status == 503
        assert any(reason.startswith("snapshots: Redis cannot be reached") for reason in body["reasons"])
        with redis_server(port):  # and back
            status, body = await readiness(stack)
            assert (status, body["reasons"]) == (200, [])


async def test_an_unreachable_database_makes_it_unready_until_it_is_back(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with (
        fresh_database_url("postgresql", tmp_path) as url,
        make_stack(database_url=SecretStr(url), readiness_timeout_seconds=2.0) as stack,
    ):
        assert (await readiness(stack))[0] == 200
        name = url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            status, body = await readiness(stack)
            assert status == 503
            assert any(reason.startswith("database: ") for reason in body["reasons"])
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        finally:
            await admin.close()
        assert (await readiness(stack))[0] == 200


async def test_an_unreachable_redis_degrades_paging_to_this_replica_with_a_warning(
    make_stack: StackFactory,
) -> None:
    page = """query($after: String) { deletedContacts(first: 20, after: $after) {
        totalCount warnings pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
    async with make_stack(redis_url="redis://127.0.0.1:1/0") as stack:
        first = await stack.graphql(page)
        assert "errors" not in first, first
        connection = first["data"]["deletedContacts"]
        assert len(connection["edges"]) == 20 and connection["pageInfo"]["hasNextPage"]
        [warning] = connection["warnings"]
        assert "Redis is unreachable" in warning
        second = await stack.graphql(page, {"after": connection["pageInfo"]["endCursor"]})
        assert "errors" not in second, second
        ids = [e["node"]["id"] for e in connection["edges"] + second["data"]["deletedContacts"]["edges"]]
        assert len(set(ids)) == 40  # the second page follows the first, from this replica's memory
    async with make_stack(redis_url="redis://127.0.0.1:6379/13") as stack:
        assert (await stack.graphql(page))["data"]["deletedContacts"]["warnings"] == []

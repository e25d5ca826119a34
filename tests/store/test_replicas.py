"""Through the whole stack: two gateway replicas on one database (no Redis) and a restarted gateway
answer a retried keyed mutation from the database instead of acting again."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.bootstrap import build_services, open_database
from gateway.core.idempotency import MemoryIdempotencyStore, RedisIdempotencyStore
from gateway.store import DatabaseIdempotencyStore, KeyStore
from gateway.store.key_cache import CachedKeyVerifier

from ..e2e.conftest import ALL_SCOPES, emulator_apps, gateway_settings, issue_test_key

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DELETE = """
mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { index provider contactId status code } userErrors { code } }
}
"""
RESTORE = """
mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) { results { index provider contactId status code } userErrors { code } }
}
"""


@contextlib.asynccontextmanager
async def gateway(
    database_url: str, cc_app: Starlette, gr_app: Starlette
) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings(
        "http://cc.emulator", "http://gr.emulator/", database_url=SecretStr(database_url)
    )
    app = create_app(
        settings,
        constant_contact_transport=httpx.ASGITransport(cc_app),
        getresponse_transport=httpx.ASGITransport(gr_app),
    )
    async with app.router.lifespan_context(app):
        # One key per database: every replica and restart of a test acts as the same principal, whose
        # idempotency records they must share.
        if database_url not in _CREDENTIALS:
            _CREDENTIALS[database_url] = await issue_test_key(settings, ALL_SCOPES)
        headers = {"authorization": f"Bearer {_CREDENTIALS[database_url]}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://gateway", headers=headers
        ) as client:
            yield client


_CREDENTIALS: dict[str, str] = {}


async def _graphql(
    client: httpx.AsyncClient, variables: dict[str, Any], query: str = DELETE
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _upstream_requests(cc_app: Starlette, gr_app: Starlette) -> list[Any]:
    counts = []
    for app in (cc_app, gr_app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://emulator") as c:
            counts.append((await c.get("/_emulator/requests")).json())
    return counts


@pytest.mark.parametrize("mutation", ["deleteContacts", "restoreContacts"])
async def test_a_keyed_mutation_acts_once_across_two_replicas_and_a_restart(
    database_url: str, mutation: str
) -> None:
    cc_app, gr_app = emulator_apps()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(gr_app), base_url="http://gr") as gr:
        truth = (await gr.get("/_emulator/ground-truth")).json()
    if mutation == "deleteContacts":
        query = DELETE
        gone = {d["email"].lower() for d in truth["deleted"]}
        email = next(c["email"] for c in truth["contacts"].values() if c["email"].lower() not in gone)
        contact = {"provider": "GETRESPONSE", "email": email}
    else:
        query = RESTORE
        active = {(c["campaign"], c["email"].lower()) for c in truth["contacts"].values()}
        restorable = next(
            d
            for d in truth["deleted"]
            if d["reason"] in ("api", "user", "support") and (d["campaign"], d["email"].lower()) not in active
        )
        contact = {"provider": "GETRESPONSE", "contactId": restorable["contact_id"]}
    request = {"input": {"idempotencyKey": "svc-7:attempt", "contacts": [contact]}}

    async with (
        gateway(database_url, cc_app, gr_app) as first,
        gateway(database_url, cc_app, gr_app) as second,
    ):
        answer = await _graphql(first, request, query)
        statuses = [r["status"] for r in answer["data"][mutation]["results"]]
        assert statuses in (["DONE"], ["PENDING"]), answer
        after_first = await _upstream_requests(cc_app, gr_app)
        assert await _graphql(second, request, query) == answer  # the other replica replays it
        assert await _upstream_requests(cc_app, gr_app) == after_first

    async with gateway(database_url, cc_app, gr_app) as restarted:
        assert await _graphql(restarted, request, query) == answer  # and so does a restarted gateway
        assert await _upstream_requests(cc_app, gr_app) == after_first
        changed = {
            "input": {**request["input"], "contacts": [{"provider": "GETRESPONSE", "email": "x@example.com"}]}
        }
        reused = await _graphql(restarted, changed, query)
        assert [e["extensions"]["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_the_composition_root_builds_the_key_store_and_the_chosen_idempotency_store(
    database_url: str,
) -> None:
    settings = gateway_settings("http://cc", "http://gr/", database_url=SecretStr(database_url))
    database = await open_database(settings)  # migrates the empty database (DATABASE_MIGRATE_ON_START)
    try:
        services = build_services(settings, database=database)
        assert isinstance(services.idempotency, DatabaseIdempotencyStore)  # the default
        [keys] = services.credentials  # no issuer configured: service keys only, cached by default
        assert isinstance(keys, CachedKeyVerifier)
        issued = await KeyStore(database).create("wired", ["contacts:read"])
        assert await keys.verify(issued.credential) is not None
        await services.aclose()
        for choice, expected in (("memory", MemoryIdempotencyStore), ("redis", RedisIdempotencyStore)):
            chosen = settings.model_copy(update={"idempotency_store": choice, "redis_url": REDIS_URL})
            other = build_services(chosen, database=database)
            assert type(other.idempotency) is expected
            await other.aclose()
    finally:
        await database.aclose()

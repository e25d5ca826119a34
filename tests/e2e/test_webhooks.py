"""Webhooks of the deletion feed end to end, over real sockets: contacts deleted at the emulators
through their own APIs, one sync, one dispatcher pass, signed deliveries at a receiver under uvicorn.

The dispatcher is the one the application runs in its sync leader (``build_webhook_dispatcher``), run
here one pass at a time; retries are scheduled on an injected clock, so no test sleeps through a
backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.bootstrap import build_services, build_webhook_dispatcher, open_database
from gateway.config import Settings
from gateway.webhooks import RetryPolicy, WebhookDispatcher

from ..databases import fresh_database_url
from ..webhooks.receiver import receiver
from .conftest import Stack, StackFactory
from .index_support import IndexStack, cc_delete, gr_delete, index_stack
from .processes import settings_environment

WEBHOOK_FIELDS = """
    id url cursor enabled filter { providers kinds }
    deliveries { pending delivered dead }
    deadLetters { eventId position attempts lastStatus lastError }
"""
REGISTER = f"""mutation($input: RegisterWebhookInput!) {{
    registerWebhook(input: $input) {{ secret webhook {{ {WEBHOOK_FIELDS} }} }}
}}"""
LIST = f"query {{ webhooks {{ {WEBHOOK_FIELDS} }} }}"
REPLAY = f"""mutation($id: ID!, $from: EventPosition!) {{
    replayWebhook(id: $id, fromPosition: $from) {{ {WEBHOOK_FIELDS} }}
}}"""
REMOVE = "mutation($id: ID!) { removeWebhook(id: $id) }"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@contextlib.asynccontextmanager
async def dispatcher(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, retry: RetryPolicy | None = None
) -> AsyncIterator[WebhookDispatcher]:
    """The application's dispatcher over the gateway's database (this process stands in for the leader)."""
    database = await open_database(settings)
    try:
        services = build_services(settings, database=database)
        try:
            built = build_webhook_dispatcher(settings, services, database, clock=clock, retry=retry)
            assert built is not None
            running, close = built
            try:
                yield running
            finally:
                await close()
        finally:
            await services.aclose()
    finally:
        await database.aclose()


async def graphql(stack: Stack, query: str, variables: dict[str, Any], credential: str | None = None) -> Any:
    if credential is None:
        return await stack.graphql(query, variables)
    async with stack.client(credential) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()


async def register(stack: Stack, url: str, credential: str | None = None, **filter: Any) -> dict[str, Any]:
    body = await graphql(stack, REGISTER, {"input": {"url": url, "filter": filter or None}}, credential)
    assert "errors" not in body, body
    registered: dict[str, Any] = body["data"]["registerWebhook"]
    return registered


async def listed(stack: Stack) -> list[dict[str, Any]]:
    body = await stack.graphql(LIST)
    assert "errors" not in body, body
    hooks: list[dict[str, Any]] = body["data"]["webhooks"]
    return hooks


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def active_contacts(stack: Stack, count: int) -> tuple[list[str], list[str]]:
    truth = await stack.ground_truth()
    cc = [c["contact_id"] for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
    return cc[:count], list(truth["gr"]["contacts"])[:count]


@contextlib.asynccontextmanager
async def webhook_stack(make_stack: StackFactory, backend: str, tmp_path: Path) -> AsyncIterator[IndexStack]:
    async with index_stack(make_stack, backend, tmp_path, webhook_allow_private_targets=True) as index:
        await index.sync()  # the backfill: what was deleted before the gateway looked makes no event
        yield index


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_deletion_at_each_provider_is_delivered_once_after_one_sync(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with webhook_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        with receiver() as target:
            registered = await register(stack, target.url)
            assert registered["secret"].startswith("whsec_")
            [cc_id], [gr_id] = await active_contacts(stack, 1)
            await cc_delete(stack, cc_id)
            await gr_delete(stack, gr_id)
            await index.sync()
            async with dispatcher(stack.settings) as running:
                report = await running.run_once()
                assert (report.queued, report.delivered) == (2, 2)
                again = await running.run_once()
                assert (again.queued, again.delivered) == (0, 0)
            assert len(target.received) == 2
            bodies = {}
            for received in target.received:
                Verifier(registered["secret"]).verify(received.body, received.headers)
                body = received.json
                assert received.headers["webhook-id"] == body["id"]
                bodies[body["provider"]] = body
            assert set(bodies) == {"CONSTANT_CONTACT", "GETRESPONSE"}
            cc = bodies["CONSTANT_CONTACT"]
            assert cc["type"] == "contact.deleted" and cc["contactId"] == cc_id and cc["source"] == "sync"
            assert cc["contact"]["contactId"] == cc_id and cc["contact"]["email"] == cc["email"]
            assert bodies["GETRESPONSE"]["type"] == "contact.deleted"
            [hook] = await listed(stack)
            assert hook["deliveries"] == {"pending": 0, "delivered": 2, "dead": 0}
            assert int(hook["cursor"]) == max(int(b["position"]) for b in bodies.values())
            assert "secret" not in hook


async def test_a_receiver_failing_five_times_then_recovering_gets_the_same_signed_delivery(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with webhook_stack(make_stack, "sqlite", tmp_path) as index:
        stack = index.stack
        with receiver() as target:
            registered = await register(stack, target.url, providers=["CONSTANT_CONTACT"])
            [cc_id], [gr_id] = await active_contacts(stack, 1)
            await cc_delete(stack, cc_id)
            await gr_delete(stack, gr_id)  # filtered out
            await index.sync()
            target.script(500, 502, 503, 429, 500)
            clock = Clock()
            retry = RetryPolicy(window_seconds=86_400, base_seconds=30, max_seconds=3_600, jitter=lambda: 1.0)
            async with dispatcher(stack.settings, clock=clock, retry=retry) as running:
                assert (await running.run_once()).retried == 1
                for failures in range(1, 6):
                    assert len(target.received) == failures
                    assert (await running.run_once()).delivered == 0  # the backoff holds: nothing due
                    assert len(target.received) == failures
                    clock.advance(retry.delay(failures))
                    await running.run_once()
                assert (await running.run_once()).delivered == 0
            assert len(target.received) == 6
            assert len(set(target.ids())) == 1
            assert len({r.body for r in target.received}) == 1
            for received in target.received:
                Verifier(registered["secret"]).verify(received.body, received.headers)
            assert target.received[0].json["contactId"] == cc_id
            [hook] = await listed(stack)
            assert hook["deliveries"] == {"pending": 0, "delivered": 1, "dead": 0}


async def test_dead_letters_after_the_retry_window_and_replay_from_a_position(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with webhook_stack(make_stack, "sqlite", tmp_path) as index:
        stack = index.stack
        with receiver() as target:
            registered = await register(stack, target.url, providers=["CONSTANT_CONTACT"], kinds=["DELETED"])
            hook_id = registered["webhook"]["id"]
            cc_ids, _ = await active_contacts(stack, 3)
            for contact_id in cc_ids:
                await cc_delete(stack, contact_id)
            await index.sync()
            target.script(*[503] * 1000)
            clock = Clock()
            retry = RetryPolicy(window_seconds=3_600, base_seconds=60, max_seconds=900, jitter=lambda: 1.0)
            async with dispatcher(stack.settings, clock=clock, retry=retry) as running:
                await running.run_once()
                for _ in range(10):
                    clock.advance(900)
                    await running.run_once()
            [hook] = await listed(stack)
            assert hook["deliveries"] == {"pending": 0, "delivered": 0, "dead": 3}
            letters = hook["deadLetters"]
            assert [int(letter["position"]) for letter in letters] == sorted(
                (int(letter["position"]) for letter in letters), reverse=True
            )
            assert {letter["lastStatus"] for letter in letters} == {503}
            assert all(letter["attempts"] > 3 and letter["lastError"] == "HTTP 503" for letter in letters)
            first_ids = {letter["eventId"] for letter in letters}
            assert set(target.ids()) == first_ids

            # The receiver is back: replay everything after the oldest dead letter's position.
            target.script()
            oldest = min(int(letter["position"]) for letter in letters)
            received_before = len(target.received)
            body = await stack.graphql(REPLAY, {"id": hook_id, "from": str(oldest)})
            assert "errors" not in body, body
            assert body["data"]["replayWebhook"]["cursor"] == str(oldest)
            async with dispatcher(stack.settings) as running:
                report = await running.run_once()
            assert (report.queued, report.delivered) == (2, 2)
            replayed = target.received[received_before:]
            assert {r.headers["webhook-id"] for r in replayed} < first_ids  # the same ids, two of them
            assert all(int(r.json["position"]) > oldest for r in replayed)
            for received in replayed:
                Verifier(registered["secret"]).verify(received.body, received.headers)
            [hook] = await listed(stack)
            assert hook["deliveries"] == {"pending": 0, "delivered": 2, "dead": 1}


async def test_private_and_plain_http_targets_are_refused_with_the_setting_off(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:  # WEBHOOK_ALLOW_PRIVATE_TARGETS off
        await refuse_private_targets(index.stack)


async def test_without_the_index_there_are_no_webhooks(stack: Stack) -> None:
    body = await stack.graphql(REGISTER, {"input": {"url": "https://hooks.example.com/in"}})
    assert codes(body) == ["WEBHOOKS_UNAVAILABLE"]


async def refuse_private_targets(stack: Stack) -> None:
    for url in (
        "https://127.0.0.1/hook",
        "http://hooks.example.com/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://[::1]/hook",
    ):
        body = await stack.graphql(REGISTER, {"input": {"url": url}})
        assert codes(body) == ["WEBHOOK_TARGET_REFUSED"], (url, body)
        assert body["data"]["registerWebhook"] is None


async def test_scopes_and_ownership(make_stack: StackFactory, tmp_path: Path) -> None:
    async with webhook_stack(make_stack, "sqlite", tmp_path) as index:
        stack = index.stack
        reader = await stack.key("contacts:read")
        alice = await stack.key("webhooks:manage")
        bob = await stack.key("webhooks:manage")
        with receiver() as target:
            refused = await graphql(stack, REGISTER, {"input": {"url": target.url}}, reader)
            assert codes(refused) == ["FORBIDDEN"]
            assert refused["errors"][0]["extensions"]["scope"] == "webhooks:manage"
            assert codes(await graphql(stack, LIST, {}, reader)) == ["FORBIDDEN"]
            registered = await register(stack, target.url, alice)
            hook_id = registered["webhook"]["id"]
            assert (await graphql(stack, LIST, {}, bob))["data"]["webhooks"] == []
            assert [h["id"] for h in (await graphql(stack, LIST, {}, alice))["data"]["webhooks"]] == [hook_id]
            assert codes(await graphql(stack, REMOVE, {"id": hook_id}, bob)) == ["WEBHOOK_NOT_FOUND"]
            assert codes(await graphql(stack, REPLAY, {"id": hook_id, "from": "0"}, bob)) == [
                "WEBHOOK_NOT_FOUND"
            ]
            assert codes(await graphql(stack, REMOVE, {"id": hook_id}, reader)) == ["FORBIDDEN"]
            for position in ("-1", "x1", ""):
                bad = await graphql(stack, REPLAY, {"id": hook_id, "from": position}, alice)
                assert codes(bad) == ["BAD_USER_INPUT"], bad
            removed = await graphql(stack, REMOVE, {"id": hook_id}, alice)
            assert removed["data"]["removeWebhook"] == hook_id
            assert (await graphql(stack, LIST, {}, alice))["data"]["webhooks"] == []


async def test_the_running_gateway_delivers_from_its_sync_leader(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """No dispatcher run by the test: the gateway's own in-process sync leads and delivers."""
    async with (
        fresh_database_url("sqlite", tmp_path) as url,
        make_stack(
            index=True,
            sync_in_process=True,
            sync_interval_seconds=0.5,
            webhook_poll_seconds=0.2,
            webhook_allow_private_targets=True,
            database_url=SecretStr(url),
        ) as stack,
    ):
        with receiver() as target:
            registered = await register(stack, target.url, providers=["CONSTANT_CONTACT"])
            # A deletion the backfill finds makes no event: delete once the backfill is done.
            deadline = asyncio.get_running_loop().time() + 60
            while asyncio.get_running_loop().time() < deadline:
                ready = await stack.graphql(
                    "{ deletedContacts(first: 1, consistency: INDEXED) { totalCount } }"
                )
                if "INDEX_NOT_READY" not in codes(ready):
                    break
                await asyncio.sleep(0.1)
            [cc_id], _ = await active_contacts(stack, 1)
            await cc_delete(stack, cc_id)
            deadline = asyncio.get_running_loop().time() + 60
            while not target.received and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            assert [r.json["contactId"] for r in target.received] == [cc_id]
            Verifier(registered["secret"]).verify(target.received[0].body, target.received[0].headers)


async def test_gateway_sync_once_delivers_what_its_pass_found(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """A deployment that runs ``gateway sync --once`` from a scheduler gets its webhooks delivered by
    the same run, before it stops leading."""
    async with webhook_stack(make_stack, "sqlite", tmp_path) as index:
        stack = index.stack
        with receiver() as target:
            registered = await register(stack, target.url)
            [cc_id], [gr_id] = await active_contacts(stack, 1)
            await cc_delete(stack, cc_id)
            await gr_delete(stack, gr_id)
            environment = {**os.environ, **settings_environment(stack.settings)}
            command = [sys.executable, "-m", "gateway.cli", "sync", "--once"]
            done = await asyncio.to_thread(
                subprocess.run, command, env=environment, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
            assert "webhooks: 2 queued, 2 delivered, 0 to retry, 0 dead-lettered" in done.stdout
            assert sorted(r.json["provider"] for r in target.received) == ["CONSTANT_CONTACT", "GETRESPONSE"]
            for received in target.received:
                Verifier(registered["secret"]).verify(received.body, received.headers)
            # Nothing new: the next run queues and delivers nothing, and says nothing of webhooks.
            again = await asyncio.to_thread(
                subprocess.run, command, env=environment, capture_output=True, text=True, timeout=120
            )
            assert again.returncode == 0 and "webhooks:" not in again.stdout, again.stdout
            assert len(target.received) == 2

"""The dispatcher and the registry over a real database (SQLite and PostgreSQL) and a real receiver
(uvicorn): queueing once per webhook, the filter, 410 Gone, a target that turns private, timeouts,
dead letters and replay, ownership, retention."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from gateway.core.feed import ContactEvent, EventFilter, EventKind, EventSource
from gateway.core.model import Provider
from gateway.core.principals import Principal, PrincipalKind
from gateway.store import Database, ensure_schema
from gateway.store.outbox import DatabaseEventLog
from gateway.store.webhooks import DatabaseWebhookStore
from gateway.webhooks import (
    HttpSender,
    RetryPolicy,
    TargetPolicy,
    WebhookDispatcher,
    WebhookNotFound,
    WebhookRegistry,
)

from ..databases import fresh_database_url
from .receiver import Receiver, receiver

ALICE = Principal(PrincipalKind.KEY, "k-alice", "alice", frozenset({"webhooks:manage"}))
BOB = Principal(PrincipalKind.KEY, "k-bob", "bob", frozenset({"webhooks:manage"}))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with fresh_database_url(request.param, tmp_path) as url:
        opened = Database(url)
        await ensure_schema(opened, migrate=True)
        yield opened
        await opened.aclose()


@pytest.fixture
def target() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def event(
    contact_id: str, provider: Provider = Provider.GETRESPONSE, kind: EventKind = EventKind.DELETED
) -> ContactEvent:
    return ContactEvent(
        kind=kind,
        provider=provider,
        contact_id=contact_id,
        email=f"{contact_id}@example.com",
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
        source=EventSource.CALLBACK,
    )


class Parts:
    def __init__(self, database: Database, policy: TargetPolicy, client: httpx.AsyncClient) -> None:
        self.clock = Clock()
        self.log = DatabaseEventLog(database)
        self.store = DatabaseWebhookStore(database)
        self.registry = WebhookRegistry(
            self.store, self.log, policy, max_per_principal=3, max_url_length=2000, dead_letters_shown=10
        )
        self.dispatcher = WebhookDispatcher(
            self.store,
            self.log,
            {},
            policy,
            HttpSender(client, total_timeout=1.0),
            RetryPolicy(window_seconds=600, base_seconds=10, max_seconds=60, jitter=lambda: 1.0),
            batch=50,
            concurrency=4,
            clock=self.clock,
        )


@pytest.fixture
async def parts(database: Database) -> AsyncIterator[Parts]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield Parts(database, TargetPolicy(allow_private=True), client)


async def test_each_matching_event_is_queued_once_and_delivered_signed(
    parts: Parts, target: Receiver
) -> None:
    await parts.log.append([event("before")])  # before registration: not delivered
    only_cc = EventFilter(providers=frozenset({Provider.CONSTANT_CONTACT}))
    everything = await parts.registry.register(ALICE, target.url, EventFilter())
    cc = await parts.registry.register(ALICE, target.url + "/cc", only_cc)
    written = await parts.log.append([event("g1"), event("c1", Provider.CONSTANT_CONTACT)])
    report = await parts.dispatcher.run_once()
    assert (report.queued, report.delivered) == (3, 3)
    assert (await parts.dispatcher.run_once()).queued == 0
    assert len(target.received) == 3
    by_path: dict[str, list[str]] = {}
    for received in target.received:
        by_path.setdefault(received.path, []).append(received.headers["webhook-id"])
        secret = cc.secret if received.path.endswith("/cc") else everything.secret
        Verifier(secret).verify(received.body, received.headers)
        assert received.headers["content-type"] == "application/json"
    assert sorted(by_path["/hooks/deletions"]) == sorted(e.event_id for e in written)
    assert by_path["/hooks/deletions/cc"] == [written[1].event_id]
    body = next(r.json for r in target.received if r.path.endswith("/cc"))
    assert body["type"] == "contact.deleted" and body["provider"] == "CONSTANT_CONTACT"
    assert body["position"] == written[1].position and body["contactId"] == "c1" and body["contact"] is None
    counts = {s.webhook.id: s.counts for s in await parts.registry.list(ALICE)}
    assert counts[everything.webhook.id].delivered == 2 and counts[cc.webhook.id].delivered == 1


async def test_410_gone_disables_the_webhook(parts: Parts, target: Receiver) -> None:
    registered = await parts.registry.register(ALICE, target.url, EventFilter())
    await parts.log.append([event("g1"), event("g2")])
    target.script(410)
    report = await parts.dispatcher.run_once()
    assert report.disabled == 1 and report.delivered == 1
    [summary] = await parts.registry.list(ALICE)
    assert not summary.webhook.enabled and summary.webhook.disabled_reason == "receiver answered 410 Gone"
    assert summary.counts.dead == 1
    await parts.log.append([event("g3")])
    assert (await parts.dispatcher.run_once()).queued == 0
    assert len(target.received) == 2
    assert registered.webhook.id == summary.webhook.id
    # Its owner replays: enabled again, and what it missed is delivered.
    replayed = await parts.registry.replay(ALICE, registered.webhook.id, 0)
    assert replayed.webhook.enabled
    assert (await parts.dispatcher.run_once()).delivered == 3


async def test_a_target_that_turns_private_is_not_called(database: Database, target: Receiver) -> None:
    answers = ["93.184.215.14"]

    async def resolve(host: str, port: int) -> list[str]:
        return list(answers)

    async with httpx.AsyncClient(timeout=5) as client:
        parts = Parts(database, TargetPolicy(allow_private=False, resolver=resolve), client)
        await parts.registry.register(ALICE, "https://rebind.example.com/hook", EventFilter())
        answers[:] = ["127.0.0.1"]  # the name now points inside
        await parts.log.append([event("g1")])
        report = await parts.dispatcher.run_once()
    assert (report.queued, report.delivered, report.retried) == (1, 0, 1)
    assert target.received == []
    [summary] = await parts.registry.list(ALICE)
    assert summary.counts.pending == 1


async def test_dead_letters_and_replay(parts: Parts, target: Receiver) -> None:
    registered = await parts.registry.register(ALICE, target.url, EventFilter())
    [first, second] = await parts.log.append([event("g1"), event("g2")])
    target.script(*[503] * 100)
    await parts.dispatcher.run_once()
    for _ in range(20):
        parts.clock.advance(60)
        await parts.dispatcher.run_once()
    [summary] = await parts.registry.list(ALICE)
    assert summary.counts.dead == 2 and summary.counts.pending == 0
    letters = {letter.event_id: letter for letter in summary.dead_letters}
    assert set(letters) == {first.event_id, second.event_id}
    assert letters[first.event_id].last_status == 503 and letters[first.event_id].attempts > 1
    target.script()
    received_before = len(target.received)
    replayed = await parts.registry.replay(ALICE, registered.webhook.id, first.position)
    assert replayed.webhook.cursor == first.position
    report = await parts.dispatcher.run_once()
    assert report.delivered == 1
    assert target.ids()[received_before:] == [second.event_id]
    [summary] = await parts.registry.list(ALICE)
    assert (summary.counts.delivered, summary.counts.dead) == (1, 1)


async def test_a_principal_manages_only_its_own_webhooks(parts: Parts, target: Receiver) -> None:
    registered = await parts.registry.register(ALICE, target.url, EventFilter())
    assert await parts.registry.list(BOB) == []
    with pytest.raises(WebhookNotFound):
        await parts.registry.remove(BOB, registered.webhook.id)
    with pytest.raises(WebhookNotFound):
        await parts.registry.replay(BOB, registered.webhook.id, 0)
    await parts.registry.remove(ALICE, registered.webhook.id)
    assert await parts.registry.list(ALICE) == []


async def test_a_replay_wins_over_a_stale_queueing(parts: Parts, target: Receiver) -> None:
    [first] = await parts.log.append([event("g1")])
    registered = await parts.registry.register(ALICE, target.url, EventFilter())
    assert registered.webhook.cursor == first.position  # only what happens from now on
    [second] = await parts.log.append([event("g2")])
    await parts.registry.replay(ALICE, registered.webhook.id, 0)
    stale = await parts.store.queue(
        registered.webhook.id,
        expected_cursor=first.position,  # what the dispatcher read before the replay
        cursor=second.position,
        deliveries=[],
        now=parts.clock(),
    )
    assert stale is False
    assert (await parts.dispatcher.run_once()).delivered == 2


async def test_delivered_deliveries_are_forgotten_after_the_retention(parts: Parts, target: Receiver) -> None:
    await parts.registry.register(ALICE, target.url, EventFilter())
    await parts.log.append([event("g1")])
    target.script(503)
    await parts.dispatcher.run_once()  # g1 fails once
    await parts.log.append([event("g2")])
    parts.clock.advance(60)
    assert (await parts.dispatcher.run_once()).delivered == 2
    parts.clock.advance(7 * 86_400 + 3_600)
    await parts.log.append([event("g3")])
    target.script(503)
    await parts.dispatcher.run_once()  # prunes g1 and g2; g3 fails and waits
    [summary] = await parts.registry.list(ALICE)
    assert (summary.counts.delivered, summary.counts.pending) == (0, 1)


async def test_a_receiver_too_slow_to_answer_times_out_and_is_retried(parts: Parts, target: Receiver) -> None:
    await parts.registry.register(ALICE, target.url, EventFilter())
    [written] = await parts.log.append([event("g1")])
    target.delay_seconds = 3.0  # past the sender's whole-attempt timeout
    report = await parts.dispatcher.run_once()
    assert (report.delivered, report.retried) == (0, 1)
    target.delay_seconds = 0.0
    parts.clock.advance(60)
    assert (await parts.dispatcher.run_once()).delivered == 1
    assert target.ids()[-1] == written.event_id

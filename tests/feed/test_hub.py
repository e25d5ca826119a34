"""``FeedHub`` over a real outbox (SQLite): catch-up then live with nothing missed or repeated, filters,
bounded buffers (a slow live subscriber is ended; one overflowing while catching up reads the log
again), per-principal limits, and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.core.feed import ContactEvent, EventFilter, EventKind, EventSource
from gateway.core.model import Provider
from gateway.feed import (
    FeedClosed,
    FeedHub,
    FeedPositionExpired,
    SubscriberTooSlow,
    SubscriptionLimitExceeded,
)
from gateway.store import Database, ensure_schema
from gateway.store.outbox import DatabaseEventLog

from ..databases import fresh_database_url

WAIT = 30.0


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[DatabaseEventLog]:
    async with fresh_database_url("sqlite", tmp_path) as url:
        database = Database(url)
        await ensure_schema(database, migrate=True)
        yield DatabaseEventLog(database)
        await database.aclose()


def event(number: int, provider: Provider = Provider.CONSTANT_CONTACT) -> ContactEvent:
    # Each a different contact: the outbox drops a repeated deletion of one contact.
    return ContactEvent(
        EventKind.DELETED,
        provider,
        f"c{number}",
        f"c{number}@example.com",
        datetime(2026, 1, 1, tzinfo=UTC),
        EventSource.SYNC,
    )


@contextlib.asynccontextmanager
async def running(log: DatabaseEventLog, **overrides: int) -> AsyncIterator[FeedHub]:
    settings = {"batch_size": 3, "queue_size": 50, "max_per_principal": 2, **overrides}
    hub = FeedHub(log, poll_seconds=0.01, **settings)
    hub.start()
    try:
        yield hub
    finally:
        await hub.aclose()


async def take(stream: AsyncIterator[ContactEvent], count: int) -> list[str]:
    return [(await asyncio.wait_for(anext(stream), WAIT)).contact_id for _ in range(count)]


async def test_catch_up_then_live_without_gaps_or_repeats(log: DatabaseEventLog) -> None:
    await log.append([event(n) for n in range(7)])  # more than a page (batch_size 3)
    async with running(log) as hub:
        stream = hub.events("a", after=0)
        assert await take(stream, 4) == ["c0", "c1", "c2", "c3"]
        await log.append([event(n) for n in range(7, 10)])  # while the subscriber is catching up
        assert await take(stream, 6) == ["c4", "c5", "c6", "c7", "c8", "c9"]
        await log.append([event(10)])
        assert await take(stream, 1) == ["c10"]
        # Resuming after a position gives exactly what followed it.
        resumed = hub.events("a", after=(await log.after(0, limit=20))[5].position)
        assert await take(resumed, 5) == ["c6", "c7", "c8", "c9", "c10"]
        await resumed.aclose()
        await stream.aclose()
        assert hub.subscriber_count() == 0


async def test_without_after_only_new_events_and_filters_apply(log: DatabaseEventLog) -> None:
    await log.append([event(0)])
    async with running(log) as hub:
        only_gr = EventFilter(providers=frozenset({Provider.GETRESPONSE}))
        stream = hub.events("a", after=None, event_filter=only_gr)
        first = asyncio.ensure_future(anext(stream))
        while hub.subscriber_count() == 0:  # registered, starting from the poller's position ...
            await asyncio.sleep(0.01)
        await log.append([event(1), event(2, Provider.GETRESPONSE)])  # ... before these
        assert (await asyncio.wait_for(first, WAIT)).contact_id == "c2"
        await stream.aclose()


async def test_a_slow_live_subscriber_is_ended_and_a_catching_up_one_rereads(log: DatabaseEventLog) -> None:
    async with running(log, queue_size=2, batch_size=50) as hub:
        slow = hub.events("a", after=0)
        first = asyncio.ensure_future(anext(slow))  # nothing to catch up: it goes live and waits
        while hub.subscriber_count(live=True) == 0:
            await asyncio.sleep(0.01)
        await log.append([event(0)])
        assert (await asyncio.wait_for(first, WAIT)).contact_id == "c0"
        await log.append([event(n) for n in range(1, 6)])  # 5 > its buffer of 2, unread
        while hub.position is None or hub.position < 6:
            await asyncio.sleep(0.01)
        with pytest.raises(SubscriberTooSlow):
            await take(slow, 5)
        assert hub.subscriber_count() == 0
        # Catching up from the start is not "too slow": the log has everything.
        assert await take(hub.events("b", after=0), 6) == [f"c{n}" for n in range(6)]


async def test_per_principal_limit_and_shutdown(log: DatabaseEventLog) -> None:
    async with running(log) as hub:
        first, second = hub.events("a", after=0), hub.events("a", after=0)
        pending = [asyncio.ensure_future(anext(first)), asyncio.ensure_future(anext(second))]
        while hub.subscriber_count("a") < 2:
            await asyncio.sleep(0.01)
        with pytest.raises(SubscriptionLimitExceeded):
            await anext(hub.events("a", after=0))
        other = hub.events("b", after=0)
        pending.append(asyncio.ensure_future(anext(other)))
        while hub.subscriber_count("b") < 1:
            await asyncio.sleep(0.01)
        await hub.aclose()
        for waiting in pending:
            with pytest.raises(FeedClosed):
                await asyncio.wait_for(waiting, WAIT)


async def test_resuming_after_a_pruned_position_is_refused(log: DatabaseEventLog) -> None:
    written = await log.append([event(n) for n in range(3)])
    assert await log.prune(datetime.now(UTC) + timedelta(seconds=1)) == 3
    [later] = await log.append([event(9)])
    assert await log.first_position() == later.position
    async with running(log) as hub:
        with pytest.raises(FeedPositionExpired):
            await take(hub.events("p", after=written[0].position), 1)
        # After the newest pruned position nothing was lost: that resumes.
        assert await take(hub.events("p", after=written[-1].position), 1) == ["c9"]

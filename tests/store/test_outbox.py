"""The deletion feed's outbox: the index's writes put one event per change in it, in the same
transaction, with increasing positions; repeats (a delta's overlap, a callback the sync confirms) are
not written twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.core.feed import ContactEvent, EventFilter, EventKind, EventSource
from gateway.core.index import Membership, SyncBatch
from gateway.core.model import Provider
from gateway.store import Database, DatabaseIndex
from gateway.store.outbox import DatabaseEventLog

from .test_index import CC, GR, contact

SYNC = EventSource.SYNC


def kinds(events: list[ContactEvent]) -> list[tuple[str, str]]:
    return [(event.kind.value, event.contact_id) for event in events]


async def test_index_changes_become_events_once_and_in_order(database: Database) -> None:
    index, log = DatabaseIndex(database), DatabaseEventLog(database)
    moment = datetime(2026, 5, 1, 10, tzinfo=UTC)
    first = contact(CC, "k1", "a@x.io", deleted_at=moment, deleted_on=moment.date())
    # A backfill writes no events: it finds what was deleted before the gateway looked.
    await index.apply(CC, SyncBatch(deleted=[first]))
    assert await log.after(0, limit=10) == [] and await log.last_position() == 0

    second = contact(CC, "k2", "b@x.io", deleted_at=moment, deleted_on=moment.date())
    await index.apply(CC, SyncBatch(deleted=[first, second]), events=SYNC)  # k1 again: unchanged
    await index.apply(CC, SyncBatch(deleted=[second]), events=SYNC)  # the next delta's overlap
    await index.apply(CC, SyncBatch(not_deleted=["k1"]), events=SYNC)  # revived
    events = await log.after(0, limit=10)
    assert kinds(events) == [("deleted", "k2"), ("restored", "k1")]
    assert [e.position for e in events] == sorted(e.position for e in events)
    assert len({e.event_id for e in events}) == 2
    assert events[0].entry == second.entry and events[0].occurred_at == moment
    assert kinds(await log.after(events[0].position, limit=10)) == [("restored", "k1")]
    assert (
        await log.after(0, limit=10, filter=EventFilter(kinds=frozenset({EventKind.RESTORED}))) == events[1:]
    )
    assert await log.after(0, limit=10, filter=EventFilter(providers=frozenset({GR}))) == []

    # Deleted again later: a new event.
    later = contact(
        CC,
        "k1",
        "a@x.io",
        deleted_at=moment + timedelta(days=3),
        deleted_on=(moment + timedelta(days=3)).date(),
    )
    await index.apply(CC, SyncBatch(deleted=[later]), events=SYNC)
    assert kinds(await log.after(events[-1].position, limit=10)) == [("deleted", "k1")]


async def test_superseded_and_callback_events(database: Database) -> None:
    index, log = DatabaseIndex(database), DatabaseEventLog(database)
    moment = datetime(2026, 5, 1, 10, tzinfo=UTC)
    # The unsubscribe callback comes first; the sync then finds the same deletion: one event.
    [callback] = await log.append(
        [ContactEvent(EventKind.DELETED, GR, "g1", "u@x.io", moment, EventSource.CALLBACK, campaign_id="c1")]
    )
    assert callback.position > 0 and callback.event_id
    gone = contact(GR, "g1", "u@x.io", campaign_id="c1", deleted_at=moment + timedelta(minutes=1))
    await index.apply(GR, SyncBatch(deleted=[gone]), events=SYNC)
    # The address is active again in the campaign: the deletion is superseded (restored).
    await index.apply(GR, SyncBatch(active=[Membership("n1", "U@x.io", "c1")]), events=SYNC)
    events = await log.after(0, limit=10)
    assert kinds(events) == [("deleted", "g1"), ("restored", "g1")]
    assert events[0].source is EventSource.CALLBACK and events[1].source is SYNC
    # A full run that no longer sees a row says it was restored.
    started = datetime.now(UTC)
    other = contact(Provider.GETRESPONSE, "g2", "v@x.io", campaign_id="c1")
    await index.apply(GR, SyncBatch(deleted=[other]))
    await index.finish_full_run(GR, "r1", started + timedelta(seconds=5), events=SYNC)
    assert kinds(await log.after(events[-1].position, limit=10)) == [("restored", "g2")]
    assert await log.prune(datetime.now(UTC) + timedelta(seconds=1)) == 3
    assert await log.after(0, limit=10) == []

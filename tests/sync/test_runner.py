"""``ProviderSync`` decides between backfill, delta and reconcile from the sync state in the database,
reads from where the watermark says, counts what a reconcile repaired, and records a failure.

The source here is a scripted ``SyncSource`` (the providers' real sources are tested against the
emulators in tests/providers and end to end in tests/e2e/test_index*.py); the index is the real store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.core.index import IndexedContact, SyncBatch
from gateway.core.model import Provider
from gateway.providers.errors import ProviderUnavailable
from gateway.store import Database, DatabaseIndex
from gateway.sync import ProviderSync, SyncKind, SyncProgress

CC = Provider.CONSTANT_CONTACT


def _row(contact_id: str, day: int = 1) -> IndexedContact:
    moment = datetime(2026, 5, day, 12, tzinfo=UTC)
    return IndexedContact(
        provider=CC,
        contact_id=contact_id,
        email=f"{contact_id}@example.com",
        name=None,
        created_on=date(2025, 1, 1),
        deleted_on=moment.date(),
        deleted_at=moment,
        reason="unknown",
        entry={"contact_id": contact_id},
    )


class ScriptedSource:
    provider = CC

    def __init__(self) -> None:
        self.everything_batches: list[SyncBatch] = []
        self.changes_batch = SyncBatch()
        self.since: list[datetime] = []
        self.fail = False

    async def everything(self) -> AsyncIterator[SyncBatch]:
        if self.fail:
            raise ProviderUnavailable("down", provider=CC)
        for batch in self.everything_batches:
            yield batch

    async def changes(self, since: datetime) -> SyncBatch:
        self.since.append(since)
        if self.fail:
            raise ProviderUnavailable("down", provider=CC)
        return self.changes_batch


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_backfill_then_deltas_from_the_watermark_then_a_reconcile(database: Database) -> None:
    index, source, clock = DatabaseIndex(database), ScriptedSource(), Clock()
    progress: list[SyncProgress] = []
    source.everything_batches = [
        SyncBatch(deleted=[_row("a"), _row("b")], requests=1),
        SyncBatch([_row("c")]),
    ]

    def sync() -> ProviderSync:
        # A new ProviderSync each pass: what a restarted process would build.
        return ProviderSync(
            source, index, overlap=300, reconcile_every=86_400, clock=clock, progress=progress.append
        )

    [backfill] = await sync().run()
    assert backfill.kind is SyncKind.BACKFILL and backfill.changes.inserted == 3 and backfill.requests == 1
    assert [p.contacts for p in progress] == [2, 3]
    state = (await index.states())[CC]
    assert state.ready and state.contacts == 3 and state.watermark == clock.now

    started = clock.now
    clock.now += timedelta(minutes=1)
    source.changes_batch = SyncBatch(deleted=[_row("d", day=2)], not_deleted=["a"], requests=2)
    [delta] = await sync().run()
    assert delta.kind is SyncKind.DELTA and source.since == [started - timedelta(seconds=300)]
    assert (delta.changes.inserted, delta.changes.removed, delta.requests) == (1, 1, 2)
    assert (await index.states())[CC].watermark == clock.now

    # A day later: a delta first, then a full read; what the full read still changes was missed.
    clock.now += timedelta(days=1)
    source.changes_batch = SyncBatch()
    source.everything_batches = [SyncBatch(deleted=[_row("b"), _row("c"), _row("d", day=2), _row("e")])]
    kinds = await sync().run()
    assert [report.kind for report in kinds] == [SyncKind.DELTA, SyncKind.RECONCILE]
    assert kinds[1].repaired == 1  # "e", which no delta reported
    assert (await index.states())[CC].contacts == 4


async def test_a_failure_is_recorded_in_the_state_and_raised(database: Database) -> None:
    index, source, clock = DatabaseIndex(database), ScriptedSource(), Clock()
    sync = ProviderSync(source, index, overlap=0, reconcile_every=86_400, clock=clock)
    source.fail = True
    with pytest.raises(ProviderUnavailable):
        await sync.run()
    state = (await index.states()).get(CC)
    assert state is not None and not state.ready and state.last_error and "down" in state.last_error
    source.fail = False
    source.everything_batches = [SyncBatch(deleted=[_row("a")])]
    [report] = await sync.run()
    assert report.kind is SyncKind.BACKFILL
    assert (await index.states())[CC].last_error is None

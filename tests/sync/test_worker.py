"""The sync loop: passes while leading, survives a failing provider, hands leadership back when it
stops (so another replica takes over at once, not after a lease runs out)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.core.index import SyncBatch
from gateway.store import Database, DatabaseIndex, leadership
from gateway.sync import ProviderSync, SyncWorker

from .test_runner import ScriptedSource, _row


async def test_the_loop_syncs_while_leading_and_hands_over_when_stopped(database: Database) -> None:
    index, source = DatabaseIndex(database), ScriptedSource()
    source.everything_batches = [SyncBatch(deleted=[_row("a")])]
    failing = ScriptedSource()
    failing.fail = True
    syncs = [
        ProviderSync(source, index, overlap=0, reconcile_every=86_400),
        ProviderSync(failing, index, overlap=0, reconcile_every=86_400),
    ]
    sleeps = 0

    async def sleep(seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        if sleeps == 3:
            raise asyncio.CancelledError

    first = SyncWorker(syncs, leadership(database, "test", "one", 60.0), interval=1.0, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await first.run_forever()
    assert first.passes == 3 and not first.leading
    # One provider failing every pass did not stop the other's: a backfill, then deltas.
    assert len(source.since) == 2
    # Leadership was handed back: another replica leads at once (the lease has 60 s left otherwise).
    second = SyncWorker(syncs[:1], leadership(database, "test", "two", 60.0), interval=1.0)
    assert await second.run_once() is not None
    await second.leadership.release()

"""One provider's sync: backfill, delta or reconcile, whichever its state calls for.

- No finished backfill yet: a **backfill**, every deleted contact read in bounded batches, each written
  as it arrives (progress is reported per batch), then the rows the read did not see are dropped.
- The last full read is older than ``reconcile_every``: a delta first (so that what changed recently
  is not mistaken for a repair), then a **reconcile**: a full read like a backfill.  Whatever it still
  changes is what the deltas missed: it is counted as ``repaired`` (a metric and a log line).
- Otherwise a **delta**: everything changed since the watermark minus ``overlap`` (the providers'
  change times are not exact to the second, and a change may be recorded a little late).

The watermark is the moment a read *began*: anything that changed while it ran is read again by the
next delta.  It is saved after the rows are written, so a crash in between only makes the next run
read the same changes again (writes are idempotent upserts): a restart resumes from the watermark.
"""

from __future__ import annotations

import enum
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from gateway.core.feed import EventSource
from gateway.core.index import ApplyResult, DeletedContactIndex, SyncSource, SyncState
from gateway.core.model import Provider
from gateway.errors import GatewayError

__all__ = ["ProviderSync", "SyncKind", "SyncProgress", "SyncReport"]

logger = logging.getLogger("gateway.sync")


class SyncKind(enum.Enum):
    BACKFILL = "backfill"
    DELTA = "delta"
    RECONCILE = "reconcile"


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Where a full read stands (reported after every batch it wrote)."""

    provider: Provider
    kind: SyncKind
    batches: int
    requests: int
    contacts: int
    """Deleted contacts read so far."""
    seconds: float


@dataclass(frozen=True, slots=True)
class SyncReport:
    provider: Provider
    kind: SyncKind
    requests: int
    """Upstream HTTP requests the run took."""
    read: int
    """Deleted contacts (and ids seen not deleted) the run read."""
    changes: ApplyResult
    """What the run changed in the index."""
    seconds: float
    repaired: int = 0
    """Reconcile only: rows the deltas had missed (inserted, changed or removed by the full read)."""


def _add(one: ApplyResult, other: ApplyResult) -> ApplyResult:
    return ApplyResult(
        one.inserted + other.inserted, one.updated + other.updated, one.removed + other.removed
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProviderSync:
    """Syncs one provider's part of the index from its :class:`SyncSource`."""

    def __init__(
        self,
        source: SyncSource,
        index: DeletedContactIndex,
        *,
        overlap: float,
        reconcile_every: float,
        clock: Callable[[], datetime] = _utc_now,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self.source = source
        self.provider = source.provider
        self._index = index
        self._overlap = timedelta(seconds=overlap)
        self._reconcile_every = timedelta(seconds=reconcile_every)
        self._clock = clock
        self._progress = progress
        self.running: SyncKind | None = None
        """The kind of run in progress (or that failed last)."""

    async def state(self) -> SyncState:
        return (await self._index.states()).get(self.provider) or SyncState(self.provider)

    async def run(self) -> list[SyncReport]:
        """One pass: what the state calls for (a reconcile is preceded by a delta).  A provider's
        failure is recorded in its state (``last_error``) and raised."""
        state = await self.state()
        try:
            if not state.ready:
                return [await self._full(SyncKind.BACKFILL)]
            reports = [await self._delta(state)]
            assert state.reconciled_at is not None  # set with backfilled_at
            if self._clock() - state.reconciled_at >= self._reconcile_every:
                reports.append(await self._full(SyncKind.RECONCILE))
            return reports
        except GatewayError as error:
            message = f"{error.code}: {error.message}"
            await self._save(lambda current: replace(current, last_error=message))
            raise

    async def _save(self, update: Callable[[SyncState], SyncState]) -> None:
        # Read again before writing: the store keeps ``contacts`` itself, and the watermark fields
        # are only ever written by the leader running this.
        await self._index.save_state(update(await self.state()))

    async def _delta(self, state: SyncState) -> SyncReport:
        assert state.watermark is not None
        self.running = SyncKind.DELTA
        started_clock, started = time.perf_counter(), self._clock()
        batch = await self.source.changes(state.watermark - self._overlap)
        changes = await self._index.apply(self.provider, batch, events=EventSource.SYNC)
        synced = self._clock()
        await self._save(
            lambda current: replace(current, watermark=started, synced_at=synced, last_error=None)
        )
        report = SyncReport(
            self.provider,
            SyncKind.DELTA,
            batch.requests,
            len(batch.deleted) + len(batch.not_deleted),
            changes,
            time.perf_counter() - started_clock,
        )
        logger.info(
            "sync %s delta: %d requests, %d read, %d inserted, %d updated, %d removed",
            self.provider.value, report.requests, report.read, changes.inserted, changes.updated,
            changes.removed,
        )  # fmt: skip
        return report

    async def _full(self, kind: SyncKind) -> SyncReport:
        self.running = kind
        run_id = uuid.uuid4().hex
        started_clock, started = time.perf_counter(), self._clock()
        changes, requests, read, batches = ApplyResult(), 0, 0, 0
        # A backfill finds what was deleted before the gateway looked: no feed events for those.  A
        # reconcile's changes are real changes the deltas missed: they get their events.
        events = EventSource.SYNC if kind is SyncKind.RECONCILE else None
        async for batch in self.source.everything():
            changes += await self._index.apply(self.provider, batch, full_run=run_id, events=events)
            requests += batch.requests
            read += len(batch.deleted)
            batches += 1
            if self._progress is not None:
                self._progress(
                    SyncProgress(
                        self.provider, kind, batches, requests, read, time.perf_counter() - started_clock
                    )
                )
        changes += await self._index.finish_full_run(self.provider, run_id, started, events=events)
        finished = self._clock()
        await self._save(
            lambda current: replace(
                current,
                watermark=started,
                backfilled_at=current.backfilled_at or finished,
                reconciled_at=finished,
                synced_at=finished,
                last_error=None,
            )
        )
        report = SyncReport(
            self.provider,
            kind,
            requests,
            read,
            changes,
            time.perf_counter() - started_clock,
            repaired=changes.changed if kind is SyncKind.RECONCILE else 0,
        )
        logger.info(
            "sync %s %s: %d requests, %d contacts read in %.1f s; %d inserted, %d updated, %d removed%s",
            self.provider.value, kind.value, requests, read, report.seconds, changes.inserted,
            changes.updated, changes.removed,
            f"; repaired {report.repaired} the deltas had missed" if kind is SyncKind.RECONCILE else "",
        )  # fmt: skip
        return report

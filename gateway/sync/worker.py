"""The sync loop: every provider's sync, run by one leader among the gateway's replicas.

Each pass syncs every provider concurrently (their upstream budgets are separate); a provider that
fails is logged and recorded in its state, and the others go on.  Between passes the worker sleeps
``interval`` seconds.  A replica that is not the leader tries to become it once per interval, so when
the leader stops (its PostgreSQL connection closes, or its SQLite lease runs out) another takes over
within about one interval.  Leadership is confirmed before each pass: a leader that lost it (a
network cut long enough for the lock's connection to drop) stops writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from gateway.errors import GatewayError

from .runner import ProviderSync, SyncReport

__all__ = ["Leadership", "SyncWorker"]

logger = logging.getLogger("gateway.sync")


class Leadership(Protocol):
    """The right to run the sync, held by one process at a time (``gateway.store.leadership``)."""

    async def try_acquire(self) -> bool:
        """Become the leader if nobody is; whether this process leads now."""
        ...

    async def still_held(self) -> bool:
        """Whether this process still leads (renewing a lease where leadership is one)."""
        ...

    async def release(self) -> None: ...


class SyncWorker:
    def __init__(
        self,
        syncs: Sequence[ProviderSync],
        leadership: Leadership,
        *,
        interval: float,
        on_report: Callable[[SyncReport], None] | None = None,
        on_failure: Callable[[ProviderSync, GatewayError], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        housekeeping: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``housekeeping`` runs after each pass, by the leader only (the feed's retention)."""
        self.syncs = list(syncs)
        self.leadership = leadership
        self.interval = interval
        self._on_report = on_report
        self._on_failure = on_failure
        self._sleep = sleep
        self._housekeeping = housekeeping
        self.leading = False
        self.passes = 0

    async def _lead(self) -> bool:
        if self.leading:
            self.leading = await self.leadership.still_held()
            if not self.leading:
                logger.warning("sync: this process lost the sync leadership; another replica syncs now")
        if not self.leading:
            self.leading = await self.leadership.try_acquire()
            if self.leading:
                logger.info("sync: this process leads the sync")
        return self.leading

    async def _run(self, sync: ProviderSync) -> list[SyncReport]:
        try:
            reports = await sync.run()
        except GatewayError as error:
            logger.error("sync %s failed: %s (%s)", sync.provider.value, error.message, error.code)
            if self._on_failure is not None:
                self._on_failure(sync, error)
            return []
        for report in reports:
            if self._on_report is not None:
                self._on_report(report)
        return reports

    async def run_pass(self) -> list[SyncReport]:
        """One sync of every provider (the caller leads); the reports of those that succeeded."""
        answers = await asyncio.gather(*(self._run(sync) for sync in self.syncs))
        self.passes += 1
        if self._housekeeping is not None:
            try:
                await self._housekeeping()
            except GatewayError as error:  # housekeeping only: the next pass tries again
                logger.warning("sync housekeeping failed: %s (%s)", error.message, error.code)
        return [report for reports in answers for report in reports]

    async def run_once(self) -> list[SyncReport] | None:
        """One pass if this process can lead (None if another process leads the sync)."""
        if not await self._lead():
            return None
        return await self.run_pass()

    async def run_forever(self) -> None:
        """Sync every ``interval`` seconds while leading; try to lead otherwise.  Ends when cancelled,
        handing leadership back."""
        try:
            while True:
                try:
                    if await self._lead():
                        await self.run_pass()
                except GatewayError as error:  # the database itself (leadership, state) failed
                    logger.error("sync pass failed: %s (%s)", error.message, error.code)
                except Exception:  # a bug must not end the loop: every later pass would be lost too
                    logger.exception("sync pass failed unexpectedly")
                await self._sleep(self.interval)
        finally:
            if self.leading:
                self.leading = False
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.leadership.release())

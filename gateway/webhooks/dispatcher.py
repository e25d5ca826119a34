"""The dispatcher: outbox events to queued deliveries, and due deliveries to signed POSTs.

One dispatcher runs at a time, in the sync leader (``run_forever`` is given the worker's
``leading``): a second one would only send duplicates, which receivers tolerate (at-least-once) but
need not see.  Each pass first queues, for every enabled webhook, the matching events after its
cursor (the cursor moves in the same transaction, so an event is queued once per webhook), then
makes one attempt of each due delivery, a bounded number at once.

Outcomes: 2xx delivered; 410 Gone disables the webhook (the receiver asks to be removed) and
dead-letters what it still had pending; anything else (another status, a timeout, a refused
target) is retried after the backoff, or dead-lettered once the retry window closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.core.feed import ContactEventLog
from gateway.core.model import Provider
from gateway.core.ports import DeletedContactsPort

from .backoff import RetryPolicy
from .errors import WebhookTargetRefused
from .model import DeliveryOutcome, DeliveryState, DueDelivery, NewDelivery, WebhookStore
from .payload import event_body
from .sender import DeliveryAttempt, Sender
from .signing import signature_headers
from .targets import TargetPolicy

__all__ = ["DispatchReport", "WebhookDispatcher"]

logger = logging.getLogger("gateway.webhooks")

GONE = 410
_PRUNE_EVERY = timedelta(hours=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DispatchReport:
    queued: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    disabled: int = 0
    full: bool = False
    """A whole batch was due: more may be waiting, so the loop goes on without sleeping."""

    def __add__(self, later: DispatchReport) -> DispatchReport:
        """Both reports' counts; ``full`` is the later one's (whether more may still be waiting)."""
        return DispatchReport(
            queued=self.queued + later.queued,
            delivered=self.delivered + later.delivered,
            retried=self.retried + later.retried,
            dead=self.dead + later.dead,
            disabled=self.disabled + later.disabled,
            full=later.full,
        )


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        log: ContactEventLog,
        ports: Mapping[Provider, DeletedContactsPort],
        policy: TargetPolicy,
        sender: Sender,
        retry: RetryPolicy,
        *,
        batch: int,
        concurrency: int,
        delivered_retention: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` schedules (tests move it past a backoff); ``wall_clock`` stamps the
        ``webhook-timestamp`` header, which receivers compare with their own clock."""
        self._store = store
        self._log = log
        self._ports = ports
        self._policy = policy
        self._sender = sender
        self._retry = retry
        self._batch = batch
        self._concurrency = concurrency
        self._clock = clock or _utc_now
        self._wall_clock = wall_clock
        self._delivered_retention = delivered_retention
        self._pruned_at: datetime | None = None

    async def queue_new(self) -> int:
        """Queue the events after each enabled webhook's cursor; how many deliveries."""
        queued = 0
        for webhook in await self._store.enabled():
            cursor = webhook.cursor
            while True:
                # Read unfiltered: the cursor must pass the events the filter leaves out too.
                events = await self._log.after(cursor, limit=self._batch)
                if not events:
                    break
                deliveries = [
                    NewDelivery(e.position, e.event_id, event_body(e, self._ports))
                    for e in events
                    if webhook.filter.matches(e)
                ]
                moved = await self._store.queue(
                    webhook.id,
                    expected_cursor=cursor,
                    cursor=events[-1].position,
                    deliveries=deliveries,
                    now=self._clock(),
                )
                if not moved:  # replayed (or removed) meanwhile: the next pass starts from there
                    break
                queued += len(deliveries)
                cursor = events[-1].position
                if len(events) < self._batch:
                    break
        return queued

    async def _attempt(self, delivery: DueDelivery, gate: asyncio.Semaphore) -> DeliveryAttempt:
        async with gate:
            try:
                target = await self._policy.check(delivery.url)
            except WebhookTargetRefused as refused:
                return DeliveryAttempt(None, refused.message)
            headers = signature_headers(
                delivery.secret, delivery.event_id, int(self._wall_clock()), delivery.body
            )
            return await self._sender.send(target, headers, delivery.body)

    def _outcome(self, delivery: DueDelivery, attempt: DeliveryAttempt, now: datetime) -> DeliveryOutcome:
        status = attempt.status
        if status is not None and 200 <= status < 300:
            return DeliveryOutcome(delivery.id, DeliveryState.DELIVERED, now, status, None, None)
        error = attempt.error or f"HTTP {status}"
        if status == GONE:
            return DeliveryOutcome(
                delivery.id, DeliveryState.DEAD, now, status, "receiver answered 410 Gone", None
            )
        retry_at = self._retry.next_attempt(delivery.attempts + 1, delivery.first_attempt_at, now)
        state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
        return DeliveryOutcome(delivery.id, state, now, status, error, retry_at)

    async def deliver_due(self) -> DispatchReport:
        """One attempt of each delivery due now (up to a batch)."""
        now = self._clock()
        due = await self._store.due(now, limit=self._batch)
        if not due:
            return DispatchReport()
        gate = asyncio.Semaphore(self._concurrency)
        attempts = await asyncio.gather(*(self._attempt(d, gate) for d in due))
        attempted_at = self._clock()
        outcomes = [self._outcome(d, a, attempted_at) for d, a in zip(due, attempts, strict=True)]
        await self._store.record(outcomes)
        gone = {d.webhook_id for d, a in zip(due, attempts, strict=True) if a.status == GONE}
        for webhook_id in sorted(gone):
            logger.warning("webhooks: receiver of webhook %s answered 410 Gone; webhook disabled", webhook_id)
            await self._store.disable(webhook_id, reason="receiver answered 410 Gone", now=attempted_at)
        states = [o.state for o in outcomes]
        return DispatchReport(
            delivered=states.count(DeliveryState.DELIVERED),
            retried=states.count(DeliveryState.PENDING),
            dead=states.count(DeliveryState.DEAD),
            disabled=len(gone),
            full=len(due) >= self._batch,
        )

    async def prune(self) -> int:
        """Forget deliveries delivered longer ago than the retention (at most once an hour)."""
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < _PRUNE_EVERY:
            return 0
        self._pruned_at = now
        return await self._store.prune_delivered(now - self._delivered_retention)

    async def run_once(self) -> DispatchReport:
        """Queue what is new, then attempt what is due (and now and then forget old deliveries)."""
        await self.prune()
        queued = await self.queue_new()
        return DispatchReport(queued=queued) + await self.deliver_due()

    async def run_forever(
        self,
        leading: Callable[[], bool],
        *,
        interval: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """A pass every ``interval`` seconds while ``leading()`` (the sync worker's leadership);
        at once again after a full batch.  Ends when cancelled."""
        while True:
            full = False
            if leading():
                try:
                    full = (await self.run_once()).full
                except Exception as error:  # the loop outlives one bad pass (the database away)
                    logger.error("webhooks: dispatch pass failed (%s)", type(error).__name__)
            if not full:
                await sleep(interval)

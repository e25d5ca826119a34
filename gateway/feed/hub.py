"""``FeedHub``: one poller of the outbox per process, fanning each new event out to the live subscribers.

Why one poller: every replica serves subscriptions, and N subscribers each polling the database would
cost N queries per interval; the hub reads each new event once and hands it to every subscriber of
this process.  Events come only from the outbox (``ContactEventLog``), never from the sync in memory,
so a subscriber on any replica sees the same events in the same order, whoever wrote them.

A subscription's stream, resumable after a disconnect (``after`` = the last position seen):

1. it registers with the hub first, so every event the hub reads from then on is buffered for it;
2. it catches up from the log itself (``after`` .. the newest position), page by page;
3. then it serves the buffer, skipping what the catch-up already gave (position <= last yielded).

The hub's reads and the catch-up overlap, so nothing falls between them; the position check drops the
overlap, so nothing is yielded twice.  The outbox commits positions in increasing order (its writers
take a lock), which is what makes "everything after position p" a complete answer.

Memory is bounded: a subscriber's buffer holds at most ``queue_size`` events.  A subscriber that falls
further behind while live is ended with :class:`SubscriberTooSlow` (it resumes with ``after``); one
that overflows while still catching up simply reads the log again, since the log holds everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator

from gateway.core.feed import ContactEvent, ContactEventLog, EventFilter
from gateway.errors import GatewayError

from .errors import FeedClosed, FeedPositionExpired, SubscriberTooSlow, SubscriptionLimitExceeded

__all__ = ["FeedHub"]

logger = logging.getLogger("gateway.feed")


class _Subscriber:
    """One live subscription's bounded buffer of matching events."""

    def __init__(self, owner: str, event_filter: EventFilter, limit: int) -> None:
        self.owner = owner
        self.filter = event_filter
        self.limit = limit
        self.pending: deque[ContactEvent] = deque()
        self.overflowed = False
        self.closed = False
        self.live = False
        """Caught up: served from the buffer (where falling behind ends it)."""
        self.wake = asyncio.Event()

    def offer(self, events: list[ContactEvent]) -> None:
        if self.overflowed or self.closed:
            return
        matching = [event for event in events if self.filter.matches(event)]
        if not matching:
            return
        if len(self.pending) + len(matching) > self.limit:
            # Dropped rather than grown: the consumer decides (read the log again, or end).
            self.overflowed = True
            self.pending.clear()
        else:
            self.pending.extend(matching)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class FeedHub:
    """The process's poller and its subscribers.

    ``poll_seconds``: time between two reads of the outbox when the last read was not a full page;
    ``batch_size``: events per read (the poller's and a catch-up's); ``queue_size``: events buffered
    per subscriber; ``max_per_principal``: live subscriptions one principal may hold on this replica.
    """

    def __init__(
        self,
        log: ContactEventLog,
        *,
        poll_seconds: float,
        batch_size: int,
        queue_size: int,
        max_per_principal: int,
    ) -> None:
        self._log = log
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.max_per_principal = max_per_principal
        self._subscribers: set[_Subscriber] = set()
        self._position: int | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._stopping = asyncio.Event()

    @property
    def position(self) -> int | None:
        """The newest position the poller has read (None before its first read)."""
        return self._position

    def subscriber_count(self, owner: str | None = None, *, live: bool = False) -> int:
        """Subscriptions of ``owner`` (None: everyone's); ``live``: only those caught up."""
        return sum(
            1
            for subscriber in self._subscribers
            if (owner is None or subscriber.owner == owner) and (subscriber.live or not live)
        )

    def start(self) -> None:
        """Start the poller (in the running loop); :meth:`aclose` stops it."""
        if self._task is None:
            self._task = asyncio.create_task(self._poll_forever(), name="feed-poller")

    async def aclose(self, *, drain_seconds: float = 5.0) -> None:
        """End every subscription (``FeedClosed``) and stop the poller.

        Nothing is cancelled in the middle of a database read (a driver whose reply lands after its
        loop has closed fails noisily): the poller stops between reads, and this waits up to
        ``drain_seconds`` for the subscriptions to unregister before cancelling what remains.
        """
        self._closed = True
        self._stopping.set()
        for subscriber in list(self._subscribers):
            subscriber.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_seconds
        while self._subscribers and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), max(0.0, deadline - loop.time()))
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def events(
        self, owner: str, *, after: int | None, event_filter: EventFilter | None = None
    ) -> AsyncGenerator[ContactEvent, None]:
        """The events after position ``after`` (None: from now on) matching ``event_filter``, live.

        ``owner`` is the principal's key (its subscriptions count against ``max_per_principal``).
        Raises :class:`SubscriptionLimitExceeded` before the first event, :class:`SubscriberTooSlow`
        when the subscriber falls too far behind, :class:`FeedClosed` when the replica shuts down.
        """
        chosen = event_filter or EventFilter()
        if after is not None:
            oldest = await self._log.first_position()
            if oldest > after + 1:
                raise FeedPositionExpired(
                    f"Events after position {after} are no longer kept (the oldest is {oldest}); "
                    "subscribe without after, or after a newer position."
                )
        # Registration needs the poller's first position (see the module's docstring): before it, the
        # poller could start past events a catch-up had not reached yet.
        await self._ready.wait()
        if self._closed:
            raise FeedClosed("The gateway is shutting down; subscribe again with after.")
        # Counted and registered with no await in between: concurrent subscribes cannot both pass.
        if self.subscriber_count(owner) >= self.max_per_principal:
            raise SubscriptionLimitExceeded(
                f"At most {self.max_per_principal} live subscriptions per principal on one replica."
            )
        subscriber = _Subscriber(owner, chosen, self.queue_size)
        self._subscribers.add(subscriber)
        try:
            # From now on: from the poller's position, since everything after it reaches the buffer.
            last = after if after is not None else (self._position or 0)
            while True:
                if subscriber.closed:
                    raise FeedClosed("The gateway is shutting down; subscribe again with after.")
                page = await self._log.after(last, limit=self.batch_size, filter=chosen)
                for event in page:
                    yield event
                    last = event.position
                if len(page) == self.batch_size:
                    continue
                if subscriber.overflowed:
                    # Events the buffer dropped were committed before this check: read them again.
                    subscriber.overflowed = False
                    continue
                break
            subscriber.live = True
            while True:
                if subscriber.closed:
                    raise FeedClosed("The gateway is shutting down; subscribe again with after.")
                if subscriber.overflowed:
                    raise SubscriberTooSlow(
                        f"More than {self.queue_size} events waited for this subscriber; subscribe "
                        f"again with after: {last}."
                    )
                if not subscriber.pending:
                    subscriber.wake.clear()
                    await subscriber.wake.wait()
                    continue
                event = subscriber.pending.popleft()
                if event.position <= last:
                    continue  # the catch-up gave it already
                yield event
                last = event.position
        finally:
            self._subscribers.discard(subscriber)

    async def _poll_forever(self) -> None:
        while not self._stopping.is_set():
            full = False
            try:
                full = await self._poll()
            except GatewayError as error:
                # The database is away for a moment: subscribers wait, nothing is skipped.
                logger.warning("the feed could not read the outbox: %s (%s)", error.message, error.code)
            except Exception:
                logger.exception("the feed's poller failed a read")
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    async def _poll(self) -> bool:
        """One read; True when it was a full page (read again at once)."""
        if self._position is None:
            self._position = await self._log.last_position()
            self._ready.set()
            return False
        if not self._subscribers:
            # Idle: only follow the newest position, unless someone subscribed during the read (then
            # the next read must start from the old position, which their catch-up may not pass).
            newest = await self._log.last_position()
            if not self._subscribers:
                self._position = max(self._position, newest)
            return False
        events = await self._log.after(self._position, limit=self.batch_size)
        if events:
            self._position = events[-1].position
            for subscriber in list(self._subscribers):
                subscriber.offer(events)
        return len(events) == self.batch_size

"""The deletion feed: events for contacts deleted or restored at either provider, in one ordered log.

Neither provider tells anyone when a contact is deleted, so the gateway does: the index's sync (and
the gateway's own mutations, written through) finds each change, and the store writes one
:class:`ContactEvent` per change into the outbox *in the same transaction* as the index rows, so an
event is never lost nor written twice for one change.  Each event gets a position, increasing with
every event written: a subscriber or a webhook resumes after the last position it saw.

Kinds: ``DELETED`` (a contact newly deleted, or deleted again after a restore) and ``RESTORED`` (a
deleted contact that is active again: restored through the gateway, revived at the provider, or a
GetResponse address re-subscribed in the same campaign).  A GetResponse unsubscribe callback is a
``DELETED`` event written at once (``source="callback"``); the sync that later finds the same deletion
writes no second event for it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .model import Provider

__all__ = ["ContactEvent", "ContactEventLog", "EventFilter", "EventKind", "EventSource"]


class EventKind(enum.Enum):
    DELETED = "deleted"
    RESTORED = "restored"


class EventSource(enum.Enum):
    SYNC = "sync"
    """A delta or a reconcile found it."""
    GATEWAY = "gateway"
    """The gateway's own mutation, written through."""
    CALLBACK = "callback"
    """GetResponse called the gateway back (an unsubscribe link was clicked)."""


@dataclass(frozen=True, slots=True)
class ContactEvent:
    kind: EventKind
    provider: Provider
    contact_id: str
    email: str
    occurred_at: datetime
    """When it happened: the deletion's moment (or day, at midnight UTC), else when it was found."""
    source: EventSource
    entry: Any = None
    """DELETED: the adapter's snapshot entry of the deleted contact (``from_snapshot_entry`` maps it);
    None for RESTORED and for a callback, whose record the provider has not listed yet."""
    reason: str | None = None
    """The general deletion reason's value, when known."""
    campaign_id: str | None = None
    position: int = 0
    """Set by the log when written (0 before)."""
    event_id: str = ""
    """Unique per event, set when written: a webhook's idempotency id."""
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventFilter:
    providers: frozenset[Provider] = field(default_factory=frozenset)
    """Empty: every provider."""
    kinds: frozenset[EventKind] = field(default_factory=frozenset)
    """Empty: every kind."""

    def matches(self, event: ContactEvent) -> bool:
        return (not self.providers or event.provider in self.providers) and (
            not self.kinds or event.kind in self.kinds
        )


class ContactEventLog(Protocol):
    """The outbox (``gateway.store.outbox``): events in position order, kept for a retention period."""

    async def after(
        self, position: int, *, limit: int, filter: EventFilter | None = None
    ) -> list[ContactEvent]:
        """Up to ``limit`` events with a position greater than ``position``, in position order."""
        ...

    async def last_position(self) -> int:
        """The position of the newest event (0 when there is none)."""
        ...

    async def first_position(self) -> int:
        """The position of the oldest event still kept (0 when there is none): a reader resuming
        after an older position has missed what retention pruned."""
        ...

    async def append(self, events: Sequence[ContactEvent]) -> list[ContactEvent]:
        """Write events that do not come with an index change (a GetResponse callback); the events as
        written (position, id).  Index changes write theirs with the rows (the store's ``apply``)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete the events recorded before ``before``; how many."""
        ...

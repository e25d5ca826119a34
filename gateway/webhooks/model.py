"""Webhooks and their deliveries, and the store port that keeps them (``gateway.store.webhooks``).

A webhook belongs to the principal that registered it (``Principal.scope_key``): only that principal
lists, removes or replays it.  Its ``cursor`` is the position of the last outbox event handed to
delivery; each matching event after it becomes one delivery, whose ``event_id`` is the
``webhook-id`` header on every attempt (the receiver's idempotency key).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.core.feed import EventFilter

__all__ = [
    "DeadLetter",
    "DeliveryCounts",
    "DeliveryOutcome",
    "DeliveryState",
    "DueDelivery",
    "NewDelivery",
    "Webhook",
    "WebhookStore",
    "WebhookSummary",
]


class DeliveryState(enum.Enum):
    PENDING = "pending"
    """Not delivered yet: due at ``next_attempt_at``."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    DEAD = "dead"
    """Given up (the retry window closed, or the webhook was disabled): dead-lettered."""


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    owner: str
    """The registering principal's ``scope_key``."""
    owner_name: str
    url: str
    secret: str
    """``whsec_`` + base64 of the signing key; shown to the caller once, at registration."""
    filter: EventFilter
    created_at: datetime
    cursor: int
    """The position of the last outbox event handed to delivery."""
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    pending: int = 0
    delivered: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: str
    position: int
    attempts: int
    last_status: int | None
    last_error: str | None
    first_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookSummary:
    webhook: Webhook
    counts: DeliveryCounts
    dead_letters: list[DeadLetter]
    """The newest dead-lettered deliveries (up to the store's limit)."""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One event queued for one webhook: ``body`` is fixed now, so every attempt signs the same bytes."""

    position: int
    event_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    webhook_id: str
    url: str
    secret: str
    position: int
    event_id: str
    body: bytes
    attempts: int
    """Attempts made before this one."""
    first_attempt_at: datetime
    """When it was queued (or replayed): the retry window counts from here."""


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one attempt ended with; the store applies it to the delivery."""

    delivery_id: int
    state: DeliveryState
    attempted_at: datetime
    status: int | None
    error: str | None
    next_attempt_at: datetime | None


class WebhookStore(Protocol):
    async def create(self, webhook: Webhook) -> None: ...

    async def get(self, webhook_id: str) -> Webhook | None: ...

    async def enabled(self) -> list[Webhook]:
        """Every webhook that is not disabled, in creation order."""
        ...

    async def summaries(self, owner: str | None, *, dead_letters: int) -> list[WebhookSummary]:
        """The webhooks of ``owner`` (None: everyone's) with their delivery counts and up to
        ``dead_letters`` dead-lettered deliveries each, newest first."""
        ...

    async def remove(self, webhook_id: str) -> bool:
        """Delete the webhook and its deliveries; whether it existed."""
        ...

    async def queue(
        self,
        webhook_id: str,
        *,
        expected_cursor: int,
        cursor: int,
        deliveries: Sequence[NewDelivery],
        now: datetime,
    ) -> bool:
        """Queue ``deliveries`` (due ``now``) and move the cursor from ``expected_cursor`` to
        ``cursor``, in one transaction; False (nothing written) if the cursor moved meanwhile (a
        replay).  A delivery of a position the webhook already has is reset to pending instead."""
        ...

    async def rewind(self, webhook_id: str, position: int) -> None:
        """Move the cursor back to ``position`` (never forward): the events after it are queued again.
        A disabled webhook is enabled again (its owner asked for deliveries)."""
        ...

    async def due(self, now: datetime, *, limit: int) -> list[DueDelivery]:
        """Pending deliveries of enabled webhooks due by ``now``, oldest position first."""
        ...

    async def record(self, outcomes: Sequence[DeliveryOutcome]) -> None: ...

    async def prune_delivered(self, before: datetime) -> int:
        """Delete the deliveries delivered before ``before`` (dead letters stay until replayed or
        removed with their webhook); how many."""
        ...

    async def disable(self, webhook_id: str, *, reason: str, now: datetime) -> None:
        """Stop delivering to a webhook; its pending deliveries are dead-lettered with ``reason``."""
        ...

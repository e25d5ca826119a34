"""The synced index of deleted contacts: what a sync writes into it and what a page reads out of it.

Neither provider lists deleted contacts in deletion order, so the live path reads every deleted contact
of every provider for a first page.  The index keeps a copy in the gateway's own database instead, kept
fresh by the sync (``gateway.sync``): a page is then one keyset range scan in the merge order
(``ordering``), whatever the account's size, with no upstream request.

Three ports meet here:

- a provider's :class:`SyncSource` reads what the provider holds (everything, for a backfill or a
  reconcile; what changed since a moment, for a delta) as :class:`SyncBatch` es;
- the store's :class:`DeletedContactIndex` applies batches and answers pages, counts and lookups;
- the sync keeps one :class:`SyncState` per provider (watermark, last full run) in the same store.

A row (:class:`IndexedContact`) holds the columns the filters need plus the adapter's snapshot entry
(``DeletedContactsPort.snapshot_entry``), which the adapter turns back into the full contact
(``from_snapshot_entry``): the index answers exactly what the live path would, ``raw`` included.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from .feed import EventSource
from .filters import DeletedContactFilter, utc_day
from .model import ContactKey, DeletedContact, OrderKey, Provider
from .ordering import order_key

__all__ = [
    "ApplyResult",
    "Consistency",
    "DeletedContactIndex",
    "IndexPage",
    "IndexedContact",
    "Membership",
    "SyncBatch",
    "SyncSource",
    "SyncState",
]


class Consistency(enum.Enum):
    """Where a listing reads from."""

    INDEXED = "indexed"
    """The synced index: page cost at any size, as fresh as the last sync (``sources.lagSeconds``)."""
    LIVE = "live"
    """The providers themselves, now: every deleted contact is read for a first page."""


@dataclass(frozen=True, slots=True)
class IndexedContact:
    """One deleted contact as the index holds it: one row per (provider, contact id)."""

    provider: Provider
    contact_id: str
    email: str
    name: str | None
    """The display name (Constant Contact: first and last name joined by a space)."""
    created_on: date | None
    deleted_on: date
    deleted_at: datetime | None
    reason: str
    """The general reason's value (``DeletionReason.value``): ``unknown`` where none is recorded."""
    entry: Any
    """The adapter's snapshot entry: ``from_snapshot_entry(entry)`` is the full contact."""
    sub_reason: str | None = None
    """GetResponse's specific reason (``bounce::mailbox_full``) when the sync learnt it."""
    campaign_id: str | None = None
    message_id: str | None = None

    @classmethod
    def of(
        cls,
        contact: DeletedContact,
        entry: Any,
        *,
        campaign_id: str | None = None,
        message_id: str | None = None,
        sub_reason: str | None = None,
    ) -> IndexedContact:
        return cls(
            provider=contact.provider,
            contact_id=contact.contact_id,
            email=contact.email,
            name=contact.name,
            created_on=utc_day(contact.created_at) if contact.created_at is not None else None,
            deleted_on=contact.deleted_on,
            deleted_at=contact.deleted_at,
            reason=contact.reason.value,
            entry=entry,
            sub_reason=sub_reason,
            campaign_id=campaign_id,
            message_id=message_id,
        )

    @property
    def key(self) -> ContactKey:
        return ContactKey(self.provider, self.contact_id)

    @property
    def order(self) -> OrderKey:
        """Its place in the merge order (the same key the live path sorts by)."""
        return order_key(self.deleted_on, self.deleted_at, self.provider, self.contact_id)


@dataclass(frozen=True, slots=True)
class Membership:
    """An active GetResponse contact: a deletion of the same address in the same campaign is
    superseded (the person is back) and is not listed."""

    contact_id: str
    email: str
    campaign_id: str


@dataclass(slots=True)
class SyncBatch:
    """What one read of a provider tells the index."""

    deleted: list[IndexedContact] = field(default_factory=list)
    """Deleted contacts seen (inserted, or replacing the row of the same id)."""
    not_deleted: list[str] = field(default_factory=list)
    """Contact ids seen not deleted (revived): their rows go."""
    active: list[Membership] = field(default_factory=list)
    """Active GetResponse contacts seen (the superseded-deletion rule)."""
    campaigns: dict[str, str] = field(default_factory=dict)
    """GetResponse campaign names by id (the campaign-name filter)."""
    messages: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    """GetResponse messages by id: (name, type) (the message-name filter)."""
    requests: int = 0
    """Upstream HTTP requests this batch took."""


class SyncSource(Protocol):
    """A provider as the sync reads it (implemented next to each provider's adapter)."""

    provider: Provider

    def everything(self) -> AsyncIterator[SyncBatch]:
        """Every deleted contact (and, for GetResponse, every active membership and the catalog), in
        batches of bounded size: a backfill or a full reconcile."""
        ...

    async def changes(self, since: datetime) -> SyncBatch:
        """Everything that may have changed at or after ``since`` (a superset is fine; the caller
        already subtracted its overlap): a delta."""
        ...


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where one provider's sync stands (one row per provider)."""

    provider: Provider
    watermark: datetime | None = None
    """Where the next delta starts reading: when the last successful sync began reading."""
    backfilled_at: datetime | None = None
    """When the first complete full read finished; until then the index cannot answer."""
    reconciled_at: datetime | None = None
    """When the last complete full read (backfill or reconcile) finished."""
    synced_at: datetime | None = None
    """When the last successful sync of any kind finished (``lagSeconds`` counts from it)."""
    contacts: int = 0
    """Deleted contacts of this provider in the index (not superseded)."""
    last_error: str | None = None
    revision: int = 0
    """Counted up by every write to the provider's rows: the same revision, the same rows."""

    @property
    def ready(self) -> bool:
        return self.backfilled_at is not None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    inserted: int = 0
    updated: int = 0
    """Rows replaced whose content changed."""
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.removed

    def __add__(self, other: ApplyResult) -> ApplyResult:
        return ApplyResult(
            self.inserted + other.inserted, self.updated + other.updated, self.removed + other.removed
        )


@dataclass(frozen=True, slots=True)
class IndexPage:
    rows: list[IndexedContact]
    """In merge order (also for a backward page)."""
    more: bool
    """Whether rows lie beyond the page in the direction it was read."""


class DeletedContactIndex(Protocol):
    """The index in the gateway's database (``gateway.store.index``)."""

    async def page(
        self,
        query: DeletedContactFilter,
        *,
        limit: int,
        after: OrderKey | None = None,
        before: OrderKey | None = None,
        backward: bool = False,
    ) -> IndexPage:
        """Up to ``limit`` rows matching ``query`` in merge order, strictly after ``after``; or, paging
        backward (``backward``, or ``before`` alone), the last ``limit`` strictly before ``before`` (or
        of all).  Superseded deletions never match."""
        ...

    async def count(self, query: DeletedContactFilter) -> dict[Provider, int]:
        """Rows matching ``query``, per provider (providers with none are absent)."""
        ...

    async def get(self, keys: Sequence[ContactKey]) -> list[IndexedContact | None]:
        """The rows of these contacts, in order; None where the index holds no (unsuperseded) row."""
        ...

    async def by_email(self, emails: Sequence[str]) -> list[list[IndexedContact]]:
        """For each address (case-insensitive), its rows in merge order."""
        ...

    async def apply(
        self,
        provider: Provider,
        batch: SyncBatch,
        *,
        full_run: str | None = None,
        events: EventSource | None = None,
    ) -> ApplyResult:
        """Write ``batch`` in one transaction.  ``full_run`` marks rows as seen by that full read (see
        :meth:`finish_full_run`).  With ``events``, every contact whose deleted-or-not state changed
        gets its event (``gateway.core.feed``) in the outbox, in the same transaction (a backfill
        writes none: it finds what was deleted before the gateway looked)."""
        ...

    async def finish_full_run(
        self, provider: Provider, full_run: str, started_at: datetime, *, events: EventSource | None = None
    ) -> ApplyResult:
        """After a full read: remove the provider's rows and memberships the run did not see and that
        were not written since ``started_at`` (a write-through is newer than the read), and recompute
        superseded deletions.  What it removed is what deltas had missed (with ``events``: each gets
        its event)."""
        ...

    async def remove(self, keys: Sequence[ContactKey]) -> int:
        """Drop these rows now (the gateway's own restores, written through)."""
        ...

    async def states(self) -> dict[Provider, SyncState]: ...

    async def save_state(self, state: SyncState) -> None: ...

"""Merged, exactly-once paging of deleted contacts across providers.

``first page``: ask every provider the filter targets, concurrently (concurrent first pages of the same
filter share each provider's listing: ``shared_listings``); keep what each answered (a
provider that fails is reported in ``sources`` and the others still answer); apply the filter in the
gateway (so push-down never changes the answer); return the head of the merge in the one documented
order, and store the whole merged list as a snapshot.  ``later pages``: slice the snapshot the cursor
points into.  The caller says how a shown contact is presented (``present``: the GraphQL layer builds
its object type); the listing returns the page's contacts presented.

A first page's answer waits for the slowest provider, so the work after its answer is kept small:

- only the contacts a filter must look at and those of the page are mapped to
  :class:`DeletedContact`; the others stay :class:`ListedContact` (merge-order key and snapshot entry);
- each provider's *head* (its first contacts in merge order, as many as the page shows: all it can
  contribute) is picked as its answer arrives, and while other providers are still awaited, the head
  is also mapped and presented (``ListedContact.prepare``);
- the merged list is ordered, and the snapshot's entries made, when the store reads them: after the
  answer, for the memory store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from gateway.errors import GatewayError, InvalidCursor, ListingTooLarge, ProviderNotConfigured

from .filters import DeletedContactFilter
from .gathering import gather_settled
from .model import DeletedContact, ListedContact, Provider
from .ordering import first_listed, merge_listed
from .ports import DeletedContactsPort
from .shared_listings import SharedListings
from .snapshots import Snapshot as SnapshotMeta
from .snapshots import SnapshotStore, decode_cursor, encode_cursor, snapshot_warning

__all__ = ["ListingPage", "SourceStatus", "list_deleted_page"]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    provider: Provider
    ok: bool
    fetched_at: float
    count: int = 0
    error_code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    synced_at: float | None = None
    """When the index that answered was last synced (None: the provider itself answered)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider.value,
            "ok": self.ok,
            "fetched_at": self.fetched_at,
            "count": self.count,
            "error_code": self.error_code,
            "message": self.message,
            "retry_after": self.retry_after,
            "synced_at": self.synced_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SourceStatus:
        return cls(
            Provider(data["provider"]),
            data["ok"],
            data["fetched_at"],
            data["count"],
            data["error_code"],
            data["message"],
            data["retry_after"],
            data.get("synced_at"),
        )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListingPage(Generic[T]):
    items: list[T]
    """The page's contacts, each as the caller's ``present`` made it."""
    offset: int
    total: int
    snapshot_id: str
    snapshot_created_at: float
    sources: list[SourceStatus]
    notes: tuple[str, ...] = ()
    """Warnings the listing's caller adds (e.g. why it answered live)."""

    @property
    def warnings(self) -> list[str]:
        """What the caller should know beyond the sources (a snapshot kept by one replica only)."""
        warning = snapshot_warning(self.snapshot_id)
        return [*self.notes, warning] if warning is not None else list(self.notes)

    def cursor_at(self, index: int) -> str:
        """The cursor of the ``index``-th contact of this page (``after`` it, paging resumes)."""
        return encode_cursor(self.snapshot_id, self.offset + index + 1)

    @property
    def has_next_page(self) -> bool:
        return self.offset + len(self.items) < self.total

    async def count_total(self) -> int:
        return self.total

    async def counts(self) -> dict[Provider, int]:
        return {status.provider: status.count for status in self.sources}

    @property
    def has_previous_page(self) -> bool:
        return self.offset > 0


class _SnapshotEntries(Sequence[tuple[str, Any]]):
    """A first page's snapshot entries (provider, adapter's entry): every listed contact in merge
    order, at most ``limit``.  They are ordered and made when the store first reads them; the memory
    store does that after the first page's answer is on its way."""

    def __init__(self, listed: list[ListedContact], limit: int) -> None:
        self._listed: list[ListedContact] | None = listed
        self._merged: list[ListedContact] = []
        self._length = min(len(listed), limit)

    def _ordered(self) -> list[ListedContact]:
        if self._listed is not None:
            self._merged, self._listed = merge_listed(self._listed)[: self._length], None
        return self._merged

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> tuple[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, Any] | list[tuple[str, Any]]:
        if isinstance(index, slice):
            return [(listed.provider_value, listed.entry) for listed in self._ordered()[index]]
        listed = self._ordered()[index]
        return listed.provider_value, listed.entry


@dataclass(slots=True)
class _Answer:
    found: list[ListedContact]
    """What the provider listed that matches the filter."""
    head: list[ListedContact]
    """The first of ``found`` in merge order, as many as a page shows: all it can contribute to it."""
    status: SourceStatus


class _Awaited:
    """How many providers have yet to answer a first page.

    An answer that arrives while others are awaited prepares its head (maps and presents its contacts,
    ``ListedContact.prepare``) in the meantime; after the last answer that work would lie on the
    request's critical path.  The last provider's head is left to the page, which presents only the
    contacts it shows.
    """

    def __init__(self, count: int) -> None:
        self.count = count

    def answered(self) -> bool:
        """Count one answer; True while others are still awaited."""
        self.count -= 1
        return self.count > 0


async def _ask(
    port: DeletedContactsPort,
    query: DeletedContactFilter,
    listings: SharedListings,
    first: int,
    awaited: _Awaited,
    present: Callable[[DeletedContact], Any],
) -> _Answer:
    try:
        listing = await listings.get(port.provider, query.cache_key(), lambda: port.list_deleted(query))
    except GatewayError as error:
        awaited.answered()
        status = SourceStatus(
            port.provider,
            ok=False,
            fetched_at=time.time(),
            error_code=error.code,
            message=error.message,
            retry_after=getattr(error, "retry_after", None),
        )
        return _Answer([], [], status)
    found = listing.contacts
    if query.checks_contacts:
        found = [listed for listed in found if query.matches(listed.contact)]
    head = first_listed(found, first)
    if awaited.answered():
        for listed in head:
            listed.prepare(present)
    return _Answer(
        head=head,
        found=found,
        status=SourceStatus(port.provider, ok=True, fetched_at=listing.fetched_at, count=len(found)),
    )


async def list_deleted_page(
    ports: Mapping[Provider, DeletedContactsPort],
    store: SnapshotStore,
    query: DeletedContactFilter,
    *,
    first: int,
    after: str | None,
    present: Callable[[DeletedContact], T],
    listings: SharedListings | None = None,
    before: str | None = None,
    from_end: bool = False,
) -> ListingPage[T]:
    """``first`` contacts after ``after`` (or from the start); with ``before``, the ``first`` contacts
    just before that cursor (backward paging through the same snapshot); with ``from_end`` and no
    cursor, the last ``first`` contacts of a new listing."""
    cursor = after if after is not None else before
    if cursor is not None:
        snapshot_id, offset = decode_cursor(cursor)
        # A cursor's offset is the position just after its contact: backward, the page ends before it.
        start = offset if after is not None else max(0, offset - 1 - first)
        count = first if after is not None else max(0, offset - 1 - start)
        # At least one entry is read, so that a stores' range read never means "to the end".
        page = await store.page(snapshot_id, start, max(count, 1))
        if page.snapshot.query_key != query.cache_key():
            raise InvalidCursor("the cursor belongs to a different filter")
        items = [present(ports[Provider(p)].from_snapshot_entry(entry)) for p, entry in page.entries[:count]]
        return ListingPage(
            items,
            start,
            page.snapshot.total,
            snapshot_id,
            page.snapshot.created_at,
            [SourceStatus.from_json(s) for s in page.snapshot.sources],
        )

    for provider in query.providers:
        if provider not in ports:
            raise ProviderNotConfigured(f"{provider.name} is not configured on this gateway")
    shared = listings if listings is not None else SharedListings()
    asked = [ports[provider] for provider in shared.slowest_first(p for p in ports if query.asks(p))]
    awaited = _Awaited(len(asked))
    answers = await gather_settled(_ask(port, query, shared, first, awaited, present) for port in asked)
    listed = [contact for answer in answers for contact in answer.found]
    if len(listed) > store.max_entries:
        # A snapshot holds at most max_entries: paging a truncated list would let a client that walks
        # every page miss the rest without a word, so the whole answer is refused instead.
        raise ListingTooLarge(
            f"{len(listed)} deleted contacts match; a live listing pages at most {store.max_entries}. "
            "Ask the synced index (consistency: INDEXED) or narrow the filter."
        )
    shown = first_listed((contact for answer in answers for contact in answer.head), first)
    order = list(ports)
    sources = sorted((answer.status for answer in answers), key=lambda s: order.index(s.provider))
    created_at = min((s.fetched_at for s in sources), default=time.time())
    entries = _SnapshotEntries(listed, store.max_entries)
    meta = SnapshotMeta(query.cache_key(), created_at, len(entries), [s.to_json() for s in sources])
    snapshot_id = await store.create(meta, entries)
    if from_end:
        start = max(0, len(entries) - first)
        tail = [present(ports[Provider(p)].from_snapshot_entry(entry)) for p, entry in entries[start:]]
        return ListingPage(tail, start, len(entries), snapshot_id, created_at, sources)
    items = [listed.presented(present) for listed in shown[: len(entries)]]
    return ListingPage(items, 0, len(entries), snapshot_id, created_at, sources)

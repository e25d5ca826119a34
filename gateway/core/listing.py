"""Merged, exactly-once paging of deleted contacts across providers.

``first page``: ask every provider the filter targets, concurrently (concurrent first pages of the same
filter share each provider's listing: ``shared_listings``); keep what each answered (a
provider that fails is reported in ``sources`` and the others still answer); apply the filter in the
gateway (so push-down never changes the answer); merge in the one documented order; store the merged
list as a snapshot and return its head.  ``later pages``: slice the snapshot the cursor points into.

Only the contacts a filter must look at and those of the page are mapped to :class:`DeletedContact`;
the others stay :class:`ListedContact` (merge-order key and snapshot entry), which is what makes a
first page over thousands of deleted contacts cheap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayError, InvalidCursor, ProviderNotConfigured

from .filters import DeletedContactFilter
from .model import DeletedContact, ListedContact, Provider
from .ordering import merge_listed
from .ports import DeletedContactsPort
from .shared_listings import SharedListings
from .snapshots import Snapshot as SnapshotMeta
from .snapshots import SnapshotStore, decode_cursor, encode_cursor

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

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider.value,
            "ok": self.ok,
            "fetched_at": self.fetched_at,
            "count": self.count,
            "error_code": self.error_code,
            "message": self.message,
            "retry_after": self.retry_after,
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
        )


@dataclass(frozen=True, slots=True)
class ListingPage:
    contacts: list[DeletedContact]
    offset: int
    total: int
    snapshot_id: str
    snapshot_created_at: float
    sources: list[SourceStatus]

    def cursor_at(self, index: int) -> str:
        """The cursor of the ``index``-th contact of this page (``after`` it, paging resumes)."""
        return encode_cursor(self.snapshot_id, self.offset + index + 1)

    @property
    def has_next_page(self) -> bool:
        return self.offset + len(self.contacts) < self.total

    @property
    def has_previous_page(self) -> bool:
        return self.offset > 0


async def _ask(
    port: DeletedContactsPort, query: DeletedContactFilter, listings: SharedListings
) -> tuple[list[ListedContact], SourceStatus]:
    try:
        listing = await listings.get(port.provider, query.cache_key(), lambda: port.list_deleted(query))
    except GatewayError as error:
        return [], SourceStatus(
            port.provider,
            ok=False,
            fetched_at=time.time(),
            error_code=error.code,
            message=error.message,
            retry_after=getattr(error, "retry_after", None),
        )
    found = listing.contacts
    if query.checks_contacts:
        found = [listed for listed in found if query.matches(listed.contact)]
    return found, SourceStatus(port.provider, ok=True, fetched_at=listing.fetched_at, count=len(found))


async def list_deleted_page(
    ports: Mapping[Provider, DeletedContactsPort],
    store: SnapshotStore,
    query: DeletedContactFilter,
    *,
    first: int,
    after: str | None,
    listings: SharedListings | None = None,
) -> ListingPage:
    if after is not None:
        snapshot_id, offset = decode_cursor(after)
        page = await store.page(snapshot_id, offset, first)
        if page.snapshot.query_key != query.cache_key():
            raise InvalidCursor("the cursor belongs to a different filter")
        contacts = [ports[Provider(p)].from_snapshot_entry(entry) for p, entry in page.entries]
        return ListingPage(
            contacts,
            offset,
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
    answers = await asyncio.gather(*(_ask(port, query, shared) for port in asked))
    merged = merge_listed(listed for found, _ in answers for listed in found)
    merged = merged[: store.max_entries]
    order = list(ports)
    sources = sorted((status for _, status in answers), key=lambda status: order.index(status.provider))
    created_at = min((s.fetched_at for s in sources), default=time.time())
    entries = [(listed.provider_value, listed.entry) for listed in merged]
    meta = SnapshotMeta(query.cache_key(), created_at, len(merged), [s.to_json() for s in sources])
    snapshot_id = await store.create(meta, entries)
    shown = [listed.contact for listed in merged[:first]]
    return ListingPage(shown, 0, len(merged), snapshot_id, created_at, sources)

"""Which path answers a page of deleted contacts: the synced index or the providers themselves.

- A cursor decides for later pages: an index cursor pages the index, a snapshot cursor its snapshot.
- A first page with ``consistency: LIVE``, or on a gateway without an index, reads the providers.
- ``consistency: INDEXED`` reads the index, or fails with ``INDEX_NOT_READY`` while a provider it asks
  has not been backfilled.
- Without ``consistency``, the index answers once every provider the query asks is backfilled; until
  then the providers answer, and the page says why in its ``warnings``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from gateway.errors import IndexNotReady

from .filters import DeletedContactFilter
from .index import Consistency, DeletedContactIndex, SyncState
from .indexed_listing import DecodedContacts, IndexedPage, PageRequest, is_index_cursor, list_indexed_page
from .listing import ListingPage, list_deleted_page
from .model import DeletedContact, Provider
from .ports import DeletedContactsPort
from .shared_listings import SharedListings
from .snapshots import SnapshotStore

__all__ = ["IndexAccess", "deleted_contacts_page"]

T = TypeVar("T")


class IndexAccess:
    """The index as the read path uses it: the store, and its sync states read at most once per
    ``state_ttl`` seconds (a page needs them for readiness and ``lagSeconds``; a sync changes them
    once a minute or so), and the contacts its pages decoded (up to ``memo_contacts``; 0: none)."""

    def __init__(
        self,
        index: DeletedContactIndex,
        *,
        state_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        memo_contacts: int = 0,
    ) -> None:
        self.index = index
        self.decoded: DecodedContacts | None = DecodedContacts(memo_contacts) if memo_contacts > 0 else None
        self._state_ttl = state_ttl
        self._clock = clock
        self._states: dict[Provider, SyncState] = {}
        self._read_at = float("-inf")

    async def states(self) -> dict[Provider, SyncState]:
        now = self._clock()
        if now - self._read_at >= self._state_ttl:
            self._states = await self.index.states()
            # Until every backfill is done the states are read each time: the first page after a
            # backfill finishes is answered from the index at once.
            ready = bool(self._states) and all(state.ready for state in self._states.values())
            self._read_at = now if ready else float("-inf")
        return self._states

    async def fresh_states(self) -> dict[Provider, SyncState]:
        """The states read now, kept for the rest of the request (and the next ``state_ttl``)."""
        self.forget_states()
        return await self.states()

    @property
    def last_states(self) -> dict[Provider, SyncState]:
        """The states as last read (for metrics, which cannot wait for the database)."""
        return self._states

    def forget_states(self) -> None:
        """Read the states again next time (after this process wrote to the index)."""
        self._read_at = float("-inf")


async def deleted_contacts_page(
    ports: Mapping[Provider, DeletedContactsPort],
    snapshots: SnapshotStore,
    listings: SharedListings,
    index: IndexAccess | None,
    query: DeletedContactFilter,
    request: PageRequest,
    consistency: Consistency | None,
    *,
    present: Callable[[DeletedContact], T],
) -> ListingPage[T] | IndexedPage[T]:
    cursor = request.after if request.after is not None else request.before
    notes: tuple[str, ...] = ()
    if cursor is not None:
        indexed = is_index_cursor(cursor)
        if indexed and index is None:
            raise IndexNotReady("this gateway keeps no index; start again without a cursor")
    elif consistency is Consistency.LIVE:
        indexed = False
    elif index is None:
        if consistency is Consistency.INDEXED:
            raise IndexNotReady("this gateway keeps no index (INDEX=false or no database)")
        indexed = False
    else:
        states = await index.states()
        waiting = [p for p in ports if query.asks(p) and not (p in states and states[p].ready)]
        if waiting and consistency is Consistency.INDEXED:
            names = ", ".join(p.name for p in waiting)
            raise IndexNotReady(f"the index of {names} is still being built; ask with consistency: LIVE")
        indexed = not waiting
        if waiting:
            names = ", ".join(p.name for p in waiting)
            notes = (f"answered live: the index of {names} is still being built",)
    if indexed:
        assert index is not None
        return await list_indexed_page(
            index.index, await index.states(), ports, query, request, present=present, decoded=index.decoded
        )
    page = await list_deleted_page(
        ports,
        snapshots,
        query,
        first=request.size,
        after=request.after,
        before=request.before,
        from_end=request.backward and request.before is None,
        present=present,
        listings=listings,
    )
    return replace(page, notes=notes) if notes else page

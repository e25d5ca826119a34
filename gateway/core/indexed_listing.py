"""Pages of deleted contacts read from the synced index: keyset paging in the merge order.

A page is one range scan of the index (``DeletedContactIndex.page``) from the cursor's place in the
merge order (``ordering``), forward (``first``/``after``) or backward (``last``/``before``).  A cursor
holds the order key of the contact it stands after, so paging needs no snapshot: contacts deleted or
restored between two pages shift nothing, every contact that stays deleted while a client walks the
pages is seen exactly once, and a cursor never expires.

Counts (``totalCount``, each source's ``count``) are read only when asked: an unfiltered count comes
from the sync state (kept exact by every write), a filtered one is a COUNT over the same conditions.
"""

from __future__ import annotations

import binascii
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Generic, TypeVar, cast

import orjson

from gateway import base64url
from gateway.errors import IndexNotReady, InvalidCursor, ProviderNotConfigured

from .filters import DeletedContactFilter
from .index import DeletedContactIndex, IndexedContact, SyncState
from .listing import SourceStatus
from .memo import BoundedMemo
from .model import DeletedContact, OrderKey, Provider
from .ports import DeletedContactsPort

__all__ = [
    "DecodedContacts",
    "IndexedPage",
    "PageRequest",
    "decode_index_cursor",
    "encode_index_cursor",
    "is_index_cursor",
    "list_indexed_page",
]

T = TypeVar("T")


@dataclass(slots=True)
class _Decoded:
    """A contact as ``from_snapshot_entry`` made it from ``entry``, and as ``present`` showed it."""

    entry: object
    contact: DeletedContact
    present: Callable[[DeletedContact], object]
    item: object


DecodedContacts = BoundedMemo[tuple[Provider, str], _Decoded]
"""Contacts of earlier pages by (provider, contact id), decoded and presented."""

_PREFIX = "k1:"
_PREFIX_BYTES = _PREFIX.encode()


def _fingerprint(query: DeletedContactFilter) -> str:
    """A short digest of the filter: a cursor of one query is refused by another."""
    return hashlib.blake2b(query.cache_key().encode(), digest_size=6).hexdigest()


def encode_index_cursor(
    order: OrderKey, query: DeletedContactFilter, *, fingerprint: str | None = None
) -> str:
    """``fingerprint``: the query's (``_fingerprint``), when the caller has it already (a page makes a
    cursor per contact)."""
    day, moment, provider, contact_id = order
    # JSON has no infinity: a deletion without a time (sorted after timed ones) is written as null.
    moment_or_none = None if math.isinf(moment) else moment
    tag = fingerprint if fingerprint is not None else _fingerprint(query)
    return base64url.encode(_PREFIX + orjson.dumps([day, moment_or_none, provider, contact_id, tag]).decode())


def _decoded(cursor: str) -> bytes | None:
    try:
        return binascii.a2b_base64((cursor + "=" * (-len(cursor) % 4)).replace("-", "+").replace("_", "/"))
    except (binascii.Error, ValueError):
        return None


def is_index_cursor(cursor: str) -> bool:
    """Whether ``cursor`` was made by an index page (a live page's cursors point into snapshots)."""
    raw = _decoded(cursor)
    return raw is not None and raw.startswith(_PREFIX_BYTES)


def decode_index_cursor(cursor: str, query: DeletedContactFilter) -> OrderKey:
    raw = _decoded(cursor)
    if raw is None or not raw.startswith(_PREFIX_BYTES):
        raise InvalidCursor("the cursor is malformed")
    try:
        day, moment, provider, contact_id, fingerprint = orjson.loads(raw[len(_PREFIX_BYTES) :])
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor("the cursor is malformed") from exc
    if (
        type(day) is not int
        or not (moment is None or type(moment) in (int, float))
        or provider not in _PROVIDER_VALUES
        or type(contact_id) is not str
        or type(fingerprint) is not str
    ):
        raise InvalidCursor("the cursor is malformed")
    if fingerprint != _fingerprint(query):
        raise InvalidCursor("the cursor belongs to a different filter")
    return (day, math.inf if moment is None else float(moment), provider, contact_id)


_PROVIDER_VALUES = frozenset(provider.value for provider in Provider)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page: ``first`` after ``after`` (forward), or ``last`` before ``before`` (backward)."""

    size: int
    after: str | None = None
    before: str | None = None
    backward: bool = False


@dataclass(frozen=True, slots=True)
class IndexedPage(Generic[T]):
    items: list[T]
    """The page's contacts, each as the caller's ``present`` made it, in merge order."""
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    sources: list[SourceStatus]
    warnings: list[str]
    counts: Callable[[], Awaitable[dict[Provider, int]]]
    """Matching contacts per provider, counted when first awaited."""

    def cursor_at(self, index: int) -> str:
        return self.cursors[index]

    async def count_total(self) -> int:
        return sum((await self.counts()).values())


class _Counts:
    """The per-provider counts of one page's query, counted once, on first need."""

    def __init__(
        self,
        index: DeletedContactIndex,
        query: DeletedContactFilter,
        asked: list[Provider],
        states: Mapping[Provider, SyncState],
    ) -> None:
        self._index, self._query, self._asked, self._states = index, query, asked, states
        self._counted: dict[Provider, int] | None = None

    async def __call__(self) -> dict[Provider, int]:
        if self._counted is None:
            query = self._query
            if not query.checks_contacts and not query.targets_getresponse_only:
                # Every deleted contact of each asked provider: the sync state keeps that count.
                counted = {p: self._states[p].contacts for p in self._asked}
            else:
                found = await self._index.count(query)
                counted = {p: found.get(p, 0) for p in self._asked}
            self._counted = counted
        return self._counted


def _source(provider: Provider, state: SyncState) -> SourceStatus:
    synced = state.synced_at.timestamp() if state.synced_at is not None else time.time()
    return SourceStatus(
        provider,
        ok=True,
        fetched_at=synced,
        message=f"the last sync failed: {state.last_error}" if state.last_error else None,
        synced_at=synced,
    )


def _presented(
    row: IndexedContact,
    ports: Mapping[Provider, DeletedContactsPort],
    decoded: DecodedContacts,
    present: Callable[[DeletedContact], T],
) -> T:
    key = (row.provider, row.contact_id)
    known = decoded.get(key)
    # The index hands out the same entry object for an unchanged row while it remembers the row;
    # otherwise an equal entry (compared in C, cheaper than decoding) is as good.
    if known is not None and (known.entry is row.entry or known.entry == row.entry):
        if known.present is not present:
            known.present, known.item = present, present(known.contact)
        # ``present`` is a function of the contact alone, and its items are only read.
        return cast(T, known.item)
    contact = ports[row.provider].from_snapshot_entry(row.entry)
    item = present(contact)
    decoded.put(key, _Decoded(row.entry, contact, present, item))
    return item


async def list_indexed_page(
    index: DeletedContactIndex,
    states: Mapping[Provider, SyncState],
    ports: Mapping[Provider, DeletedContactsPort],
    query: DeletedContactFilter,
    request: PageRequest,
    *,
    present: Callable[[DeletedContact], T],
    decoded: DecodedContacts | None = None,
) -> IndexedPage[T]:
    """One page of ``query`` from the index.  Raises ``IndexNotReady`` when a provider the query asks
    has not been backfilled yet (the caller decides whether to answer live instead).

    ``decoded``: contacts decoded and presented by earlier pages of this process, reused while their
    entry is the same (``from_snapshot_entry`` is a function of the entry alone, ``present`` of the
    contact)."""
    for provider in query.providers:
        if provider not in ports:
            raise ProviderNotConfigured(f"{provider.name} is not configured on this gateway")
    asked = [provider for provider in ports if query.asks(provider)]
    waiting = [p.name for p in asked if p not in states or not states[p].ready]
    if waiting:
        raise IndexNotReady(
            f"the index of {', '.join(waiting)} is still being built; ask with consistency: LIVE"
        )
    # The index may hold providers this gateway no longer has credentials for: only configured ones count.
    scoped = query if query.providers else replace(query, providers=frozenset(ports))
    after = decode_index_cursor(request.after, query) if request.after is not None else None
    before = decode_index_cursor(request.before, query) if request.before is not None else None
    if request.backward:
        found = await index.page(scoped, limit=request.size, before=before, backward=True)
        has_previous, has_next = found.more, before is not None
    else:
        found = await index.page(scoped, limit=request.size, after=after)
        has_next, has_previous = found.more, after is not None
    if decoded is None:
        items = [present(ports[row.provider].from_snapshot_entry(row.entry)) for row in found.rows]
    else:
        items = [_presented(row, ports, decoded, present) for row in found.rows]
    fingerprint = _fingerprint(query)
    cursors = [encode_index_cursor(row.order, query, fingerprint=fingerprint) for row in found.rows]
    return IndexedPage(
        items=items,
        cursors=cursors,
        has_next_page=has_next,
        has_previous_page=has_previous,
        sources=[_source(p, states[p]) for p in asked],
        warnings=[],
        counts=_Counts(index, scoped, asked, states),
    )

"""``GET /v3/contacts`` and ``GET /v3/contact_lists``: filters, counts, and cursor pages.

Contacts filters (all optional, ANDed):

- ``status``: csv of the seven documented values.  Every contact has one status: ``deleted`` when it
  is deleted, otherwise derived from ``permission_to_send`` (``explicit``/``implicit`` are ``active``;
  which permissions make up ``active`` is UNCONFIRMED).  No ``status`` means every status but
  ``deleted``; ``all`` means every contact.
- ``email``: one exact address, compared case-insensitively, answered from the address index.
- ``lists`` (<= 25 ids), ``tags`` (<= 50 ids): member of any of them.
- ``created_after/before``, ``updated_after/before``, ``optout_after/before``: ``after`` is inclusive
  and ``before`` exclusive (UNCONFIRMED; inclusive ``after`` keeps incremental syncs lossless).
- ``include`` adds subresources; ``include_count=true`` adds ``contacts_count`` (all pages).
- ``limit`` 1..500, default 50.  ``segment_id`` is refused (the emulator has no segments);
  ``sms_status`` is validated and otherwise ignored (no seeded contact has an SMS channel).

Order: creation order, oldest first (CC documents none).  A page stops at ``limit`` matches; the next
match, if any, anchors ``_links.next``, so the last page has no ``_links`` at all.  The work per page
is proportional to the records scanned for it, and ``contacts_count`` for a status-only query comes
from the store's per-status counters, so a page of a large account does not cost a walk of the
whole account.  An ``updated_after``/``updated_before`` window holding few contacts (an incremental
sync's delta) is read from the store's update index: its contacts, put in creation order once per
listing, are all a page looks at.

Lists: ``limit`` 1..1000 (the Swagger schema's maximum; its prose says 500), ``include_count``,
``include_membership_count`` (``all``, or ``active`` = members whose status is active), ``name``
(exact), ``status`` (csv of all/active/deleted; default every list that is not deleted),
``channel_type`` (``sms`` lists do not exist here, so that answers no lists).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from starlette.datastructures import QueryParams

from .errors import validation_error
from .model import CATEGORIES, CONTACT_STATUSES, INCLUDES, Contact
from .paging import next_link, read_paged_query
from .params import QueryReader
from .store import ConstantContactStore

__all__ = ["ContactListing", "ContactQuery", "contact_lists_page", "parse_contact_query"]

CONTACT_PARAMS = (
    "status", "email", "lists", "segment_id", "tags", "updated_after", "updated_before", "created_after",
    "created_before", "optout_after", "optout_before", "include", "sms_status", "include_count", "limit",
)  # fmt: skip
LIST_PARAMS = (
    "limit", "include_count", "include_membership_count", "name", "status", "channel_type",
    "include_sms_membership_count",
)  # fmt: skip
_SMS_STATUSES = ("all", "explicit", "unsubscribed", "pending_confirmation", "not_set")
_DEFAULT_CATEGORIES = frozenset(CATEGORIES) - {"deleted"}
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ContactQuery:
    categories: frozenset[str]
    email: str | None = None
    lists: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    optout_after: datetime | None = None
    optout_before: datetime | None = None
    include: tuple[str, ...] = ()
    include_count: bool = False
    limit: int = 50

    @property
    def status_only(self) -> bool:
        return self.email is None and self.lists is None and self.tags is None and not any(
            (self.created_after, self.created_before, self.updated_after, self.updated_before,
             self.optout_after, self.optout_before)
        )  # fmt: skip

    def matches(self, contact: Contact) -> bool:
        if contact.category not in self.categories:
            return False
        if self.email is not None and (
            contact.email is None or contact.email.address.casefold() != self.email.casefold()
        ):
            return False
        if self.lists is not None and self.lists.isdisjoint(contact.list_memberships):
            return False
        if self.tags is not None and self.tags.isdisjoint(contact.taggings):
            return False
        if not _within(contact.created_at, self.created_after, self.created_before):
            return False
        if not _within(contact.updated_at, self.updated_after, self.updated_before):
            return False
        if self.optout_after is not None or self.optout_before is not None:
            opted_out = contact.email.opt_out_date if contact.email is not None else None
            if opted_out is None or not _within(opted_out, self.optout_after, self.optout_before):
                return False
        return True


def _within(moment: datetime, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or moment >= after) and (before is None or moment < before)


def parse_contact_query(values: dict[str, str]) -> ContactQuery:
    reader = QueryReader(values)
    statuses = reader.csv("status", CONTACT_STATUSES)
    if statuses is None:
        categories = _DEFAULT_CATEGORIES
    elif "all" in statuses:
        categories = frozenset(CATEGORIES)
    else:
        categories = frozenset(statuses)
    include = reader.csv("include", INCLUDES) or ()
    reader.csv("sms_status", _SMS_STATUSES)
    reader.reject("segment_id", "is not supported by this emulator (it has no segments).")
    query = ContactQuery(
        categories=categories,
        email=reader.raw("email"),
        lists=reader.uuids("lists", max_items=25),
        tags=reader.uuids("tags", max_items=50),
        created_after=reader.moment("created_after"),
        created_before=reader.moment("created_before"),
        updated_after=reader.moment("updated_after"),
        updated_before=reader.moment("updated_before"),
        optout_after=reader.moment("optout_after"),
        optout_before=reader.moment("optout_before"),
        include=include,
        include_count=reader.boolean("include_count"),
        limit=reader.integer("limit", minimum=1, maximum=500, default=50),
    )
    reader.finish()
    return query


class ContactListing:
    """``GET /v3/contacts`` over one store.

    Candidates come from the narrowest index that covers the query: the address index for ``email``,
    the per-status seq lists when the query names a few statuses, otherwise every contact.  A
    status-only query needs no per-contact check at all.  The last full-scan ``contacts_count`` is
    kept while the store is unchanged, so the pages of one listing count once.
    """

    def __init__(self, store: ConstantContactStore, *, always_include_count: bool = False) -> None:
        self.store = store
        self.always_include_count = always_include_count
        self._count_key: tuple[int, ContactQuery] | None = None
        self._count = 0
        self._updated_key: tuple[int, datetime | None, datetime | None] | None = None
        self._updated_seqs: list[int] | None = None

    def page(self, params: QueryParams) -> dict[str, Any]:
        """The ``Contacts`` body; its contacts are pre-serialized ``orjson.Fragment`` objects."""
        values, anchor = read_paged_query(params, CONTACT_PARAMS)
        query = parse_contact_query(values)
        start = 0
        if anchor is not None:
            anchored = self.store.find(anchor)
            if anchored is None:
                raise validation_error("cursor is invalid.")
            start = anchored.seq
        candidates = self._candidates(query, start)
        if not query.status_only:
            candidates = filter(query.matches, candidates)
        page = list(itertools.islice(candidates, query.limit + 1))
        following = page.pop() if len(page) > query.limit else None
        include = query.include
        body: dict[str, Any] = {"contacts": [self.store.fragment(contact, include) for contact in page]}
        if query.include_count or self.always_include_count:
            body["contacts_count"] = self._count_of(query)
        if following is not None:
            body["_links"] = next_link("/v3/contacts", values, following.contact_id)
        return body

    def _candidates(self, query: ContactQuery, start: int) -> Iterator[Contact]:
        """Contacts from ``start`` on whose status the query wants, in creation order.

        Every way in starts at ``start`` by index (a bisection), never by skipping the records before
        it, so page 2,000 of a listing costs what page 1 costs.
        """
        store = self.store
        contacts = store.contacts
        if query.email is not None:
            holder = store.by_email(query.email)
            found = holder is not None and holder.seq >= start and holder.category in query.categories
            return iter([holder] if found and holder is not None else [])
        categories = query.categories
        if query.updated_after is not None or query.updated_before is not None:
            updated = self._updated(query)
            if updated is not None:  # an incremental read: only what changed in the window
                return (
                    contact
                    for contact in map(
                        contacts.__getitem__, _from(updated, bisect.bisect_left(updated, start))
                    )
                    if contact.category in categories
                )
        wanted = sum(store.category_count(category) for category in categories)
        if wanted * 2 > len(contacts):  # most contacts: one pass with a cheap check is faster
            return (contact for contact in _from(contacts, start) if contact.category in categories)
        slices = []
        for category in categories:
            seqs = store.by_category[category]
            slices.append(_from(seqs, bisect.bisect_left(seqs, start)))
        seqs_in_order = slices[0] if len(slices) == 1 else heapq.merge(*slices)
        return map(contacts.__getitem__, seqs_in_order)

    def _updated(self, query: ContactQuery) -> list[int] | None:
        """The seqs updated in the query's window (kept while the store is unchanged: one per listing)."""
        key = (self.store.version, query.updated_after, query.updated_before)
        if key != self._updated_key:
            self._updated_seqs = self.store.updated_since(query.updated_after, query.updated_before)
            self._updated_key = key
        return self._updated_seqs

    def _count_of(self, query: ContactQuery) -> int:
        if query.status_only:
            return sum(self.store.category_count(category) for category in query.categories)
        key = (self.store.version, replace(query, limit=0, include=(), include_count=False))
        if key != self._count_key:
            self._count = sum(1 for contact in self._candidates(query, 0) if query.matches(contact))
            self._count_key = key
        return self._count


def _from(items: Sequence[_T], start: int) -> Iterator[_T]:
    """``items[start:]`` one by one without copying or skipping (the list does not change meanwhile)."""
    return map(items.__getitem__, range(start, len(items)))


def contact_lists_page(store: ConstantContactStore, params: QueryParams) -> dict[str, Any]:
    values, anchor = read_paged_query(params, LIST_PARAMS)
    reader = QueryReader(values)
    limit = reader.integer("limit", minimum=1, maximum=1000, default=50)
    include_count = reader.boolean("include_count")
    membership = reader.choice("include_membership_count", ("all", "active"))
    name = reader.raw("name")
    statuses = reader.csv("status", ("all", "active", "deleted")) or ("active",)
    channel = reader.choice("channel_type", ("email", "sms")) or "email"
    reader.boolean("include_sms_membership_count")
    reader.finish()

    start = 0
    if anchor is not None:
        anchored = store.lists.get(anchor)
        if anchored is None:
            raise validation_error("cursor is invalid.")
        start = anchored.seq
    wanted = {"active", "deleted"} if "all" in statuses else set(statuses)
    matching = [
        contact_list
        for contact_list in store.ordered_lists
        if channel == "email"
        and ("deleted" if contact_list.deleted_at else "active") in wanted
        and (name is None or contact_list.name == name)
    ]
    remaining = [contact_list for contact_list in matching if contact_list.seq >= start]
    page, following = remaining[:limit], remaining[limit : limit + 1]
    counts = store.membership_counts(active_only=membership == "active") if membership else None
    body: dict[str, Any] = {
        "lists": [cl.to_json(None if counts is None else counts[cl.list_id]) for cl in page]
    }
    if include_count:
        body["lists_count"] = len(matching)
    if following:
        body["_links"] = next_link("/v3/contact_lists", values, following[0].list_id)
    return body

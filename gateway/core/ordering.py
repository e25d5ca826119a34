"""The one order in which deleted contacts from every provider are merged.

Most recent deletion first: by ``deleted_on`` (day) descending, then ``deleted_at`` descending where
the provider records a time (contacts with only a day sort after those with a time on the same day),
then provider name and provider contact id ascending as a deterministic tie-break.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import date, datetime
from operator import attrgetter

from .model import DeletedContact, ListedContact, OrderKey, Provider

__all__ = [
    "first_listed",
    "merge_listed",
    "merge_order",
    "moment_order_key",
    "order_key",
    "sort_key",
]

_NO_TIME = float("inf")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_SECONDS_PER_DAY = 86400


def order_key(deleted_on: date, deleted_at: datetime | None, provider: Provider, contact_id: str) -> OrderKey:
    """Ascending order of these keys is the merge order."""
    return (
        -deleted_on.toordinal(),
        -deleted_at.timestamp() if deleted_at is not None else _NO_TIME,
        provider._value_,  # Enum.value is a slow descriptor; listings compute a key per contact
        contact_id,
    )


def moment_order_key(timestamp: float, provider: Provider, contact_id: str) -> OrderKey:
    """``order_key`` of a deletion at ``timestamp`` (POSIX seconds) on its UTC day, computed without
    building a date: listings compute one for every deleted contact of the account."""
    day_ordinal = int(timestamp // _SECONDS_PER_DAY) + _EPOCH_ORDINAL
    return (-day_ordinal, -timestamp, provider._value_, contact_id)


def sort_key(contact: DeletedContact) -> OrderKey:
    return order_key(contact.deleted_on, contact.deleted_at, contact.provider, contact.contact_id)


def merge_order(contacts: Iterable[DeletedContact]) -> list[DeletedContact]:
    return sorted(contacts, key=sort_key)


_listed_order: Callable[[ListedContact], OrderKey] = attrgetter("order")
"""A listed contact's key, read in C: listings order hundreds of contacts per first page."""


def merge_listed(listed: Iterable[ListedContact]) -> list[ListedContact]:
    """Listed contacts in merge order (their keys were computed when they were listed)."""
    return sorted(listed, key=_listed_order)


def first_listed(listed: Iterable[ListedContact], count: int) -> list[ListedContact]:
    """The first ``count`` of ``listed`` in merge order: ``merge_listed(listed)[:count]`` (keys are
    unique, so the ways of finding them always agree).  Sorting everything in C beats
    ``heapq.nsmallest``'s loop in Python until the list is many times longer than ``count``
    (``_SORT_ALL_FACTOR`` times); past that, the heap's fewer comparisons win."""
    candidates = listed if isinstance(listed, list) else list(listed)
    if len(candidates) <= _SORT_ALL_FACTOR * count:
        return sorted(candidates, key=_listed_order)[:count]
    return heapq.nsmallest(count, candidates, key=_listed_order)


_SORT_ALL_FACTOR = 16

"""Records filed under a UTC calendar day, for the conditions that name a range of days.

GetResponse's time conditions (``deleted_on``, ``created_on``, ``changed_on``) compare whole UTC days.
A sync reads a large account a few days at a time (``{"FROM": "2024-05-01", "TO": "2024-05-03"}``),
so the store files each record under its day: such a read visits the few buckets in range, not every
record.  Days are proleptic ordinals (``date.toordinal()``); the sorted list of days that hold records
finds a range's buckets by bisection.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

__all__ = ["DayIndex", "day_number", "iso_day_number"]

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.date().toordinal()


def day_number(moment: datetime) -> int:
    """The ordinal of ``moment``'s UTC day."""
    return _EPOCH_DAY + (moment - _EPOCH).days


def iso_day_number(day: str) -> int:
    """The ordinal of an ISO ``YYYY-MM-DD`` day (already validated by the condition parser)."""
    return date.fromisoformat(day).toordinal()


class DayIndex(Generic[_T]):
    """Records by day; a record is filed once and removed by identity (``discard``)."""

    def __init__(self) -> None:
        self._buckets: dict[int, list[_T]] = {}
        self._days: list[int] = []  # ascending: the keys of _buckets
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, day: int, record: _T) -> None:
        bucket = self._buckets.get(day)
        if bucket is None:
            bucket = self._buckets[day] = []
            bisect.insort(self._days, day)
        bucket.append(record)
        self._size += 1

    def discard(self, day: int, record: _T) -> None:
        bucket = self._buckets.get(day)
        if bucket is None:
            return
        for index, filed in enumerate(bucket):
            if filed is record:
                del bucket[index]
                self._size -= 1
                break
        if not bucket:
            del self._buckets[day]
            del self._days[bisect.bisect_left(self._days, day)]

    def count_between(self, first: str | None, last: str | None) -> int:
        """How many records lie in the inclusive range of ISO days (``None``: unbounded)."""
        return sum(len(self._buckets[day]) for day in self._days_between(first, last))

    def between(self, first: str | None, last: str | None) -> Iterator[_T]:
        """The records of the inclusive range of ISO days, day by day."""
        for day in self._days_between(first, last):
            yield from self._buckets[day]

    def _days_between(self, first: str | None, last: str | None) -> list[int]:
        days = self._days
        low = 0 if first is None else bisect.bisect_left(days, iso_day_number(first))
        high = len(days) if last is None else bisect.bisect_right(days, iso_day_number(last))
        return days[low:high]

"""A bounded map of values worth keeping between requests of one process (decoded contacts).

Insertion order decides what goes first: past ``size`` entries the oldest is dropped.  A hit does not
refresh an entry (a dropped one costs a single decode when next read).  Single-threaded: one event
loop's callers only.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["BoundedMemo"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        entries = self._entries
        entries.pop(key, None)
        entries[key] = value
        if len(entries) > self._size:
            del entries[next(iter(entries))]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

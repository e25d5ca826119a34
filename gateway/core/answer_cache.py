"""Answers the synced index gave, reused while the index holds the same rows.

Most reads ask again what was just asked: a support page's first page, a dashboard's filter, a
frontend refreshing.  With the index in place such an answer depends only on the index's rows and
sync states, so it can be reused as long as those are unchanged:

- an answer is stored under an :class:`IndexVersion`: every configured provider's sync state, whose
  ``revision`` the store counts up in the transaction of every write to that provider's rows (and
  whose other fields answers show: when each provider was last synced, the last sync's failure);
- it is reused only under the same version, read afresh for every request that could reuse an
  answer (the sync states, which the rest of the request then uses; on SQLite the store reads them
  only when the file changed): a
  reused answer is what the index answers at that moment, whichever process or replica wrote last;
- while any configured provider's index is still being built there is no version, and nothing is
  stored or reused (those answers come from the providers).

What may be stored at all -- queries of index-only fields, no field that changes with the clock,
answers without errors, answered from the index -- is the GraphQL layer's decision
(``gateway.schema.answer_cache``).  Keys are digests of everything that shapes an answer: the
document, the operation name, the variables and the caller's scopes.

The cache is this process's memory, bounded in bytes (least recently used answers go first): a
replica's reused answers are its own, their freshness is the database's.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .deleted_pages import IndexAccess
from .index import SyncState
from .model import Provider

__all__ = ["AnswerCache", "AnswerKey", "IndexVersion", "answer_key"]

AnswerKey = bytes
"""A digest of what shapes one answer (:func:`answer_key`)."""


@dataclass(frozen=True, slots=True)
class IndexVersion:
    """The index's rows and sync times as one comparable value."""

    states: tuple[SyncState, ...]
    """The sync state of every configured provider, in a fixed order."""


def answer_key(
    document: str, operation_name: str | None, variables: Mapping[str, Any] | None, scopes: Collection[str]
) -> AnswerKey:
    """The digest of an answer's inputs: two requests with the same key get the same answer from the
    same index.  Variables are compared as canonical JSON (keys sorted), scopes as a sorted list."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (
        document.encode(),
        (operation_name or "").encode(),
        orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
        "\n".join(sorted(scopes)).encode(),
    ):
        # Each part is length-prefixed: no two different inputs concatenate to the same bytes.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class _Stored:
    version: IndexVersion
    data: dict[str, Any]
    size: int


class AnswerCache:
    """Answers by :func:`answer_key`, each valid for the :class:`IndexVersion` it was computed at.

    ``max_bytes`` bounds the encoded size of what is held (an answer larger than a quarter of it is
    not stored: one page of raw records must not flush everything else).
    """

    def __init__(self, index: IndexAccess, providers: Collection[Provider], *, max_bytes: int) -> None:
        self._index = index
        self._providers = tuple(sorted(providers, key=lambda provider: provider.value))
        self._max_bytes = max_bytes
        self._entries: OrderedDict[AnswerKey, _Stored] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def version(self) -> IndexVersion | None:
        """The index's version now; None while a configured provider's index is not built (nothing
        is reused then)."""
        if not self._providers:
            return None
        states = await self._index.fresh_states()
        parts: list[SyncState] = []
        for provider in self._providers:
            state = states.get(provider)
            if state is None or not state.ready:
                return None
            parts.append(state)
        return IndexVersion(tuple(parts))

    def get(self, key: AnswerKey, version: IndexVersion) -> dict[str, Any] | None:
        """The answer stored under ``key`` at ``version``; an answer of another version is dropped."""
        stored = self._entries.get(key)
        if stored is None or stored.version != version:
            if stored is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return stored.data

    def put(self, key: AnswerKey, version: IndexVersion, data: dict[str, Any]) -> None:
        """Keep ``data`` (never changed afterwards: every reuse hands out this same object)."""
        size = len(orjson.dumps(data))
        if size * 4 > self._max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Stored(version, data, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: AnswerKey) -> None:
        stored = self._entries.pop(key)
        self._bytes -= stored.size

"""Short-lived snapshots that make merged paging exact, and the opaque cursors that point into them.

Neither provider can page in "most recent deletion first" order, so the first page of a query
fetches every matching record from each provider, merges them (``ordering.merge_order``) and stores
the merged list as a snapshot.  Later pages read slices of that snapshot, so walking every page yields
each contact exactly once even if contacts are deleted or restored meanwhile.  Snapshots expire after
``ttl`` seconds (a cursor into an expired one gets ``CURSOR_EXPIRED``) and are bounded in size.

Two stores: :class:`MemorySnapshotStore` (one process) and :class:`RedisSnapshotStore` (shared by
every gateway replica, so a cursor works whichever replica serves the next page).

A cursor is ``base64url("v1:<snapshot id>:<offset>")``: opaque to clients, cheap to validate.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gateway import base64url
from gateway.errors import CursorExpired, InvalidCursor

from . import afterwards

__all__ = [
    "LOCAL_SNAPSHOT_MARK",
    "MemorySnapshotStore",
    "RedisSnapshotStore",
    "Snapshot",
    "SnapshotPage",
    "SnapshotStore",
    "decode_cursor",
    "encode_cursor",
    "snapshot_warning",
]

logger = logging.getLogger("gateway.snapshots")

_CURSOR_PREFIX = "v1"


def encode_cursor(snapshot_id: str, offset: int) -> str:
    return base64url.encode(f"{_CURSOR_PREFIX}:{snapshot_id}:{offset}")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, snapshot_id, offset = base64.urlsafe_b64decode(padded).decode().split(":")
        position = int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is malformed") from exc
    if version != _CURSOR_PREFIX or not snapshot_id.isalnum() or position < 0:
        raise InvalidCursor("the cursor is malformed")
    return snapshot_id, position


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a snapshot remembers besides its entries."""

    query_key: str
    created_at: float
    """Unix time the providers were read."""
    total: int
    sources: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SnapshotPage:
    snapshot_id: str
    snapshot: Snapshot
    offset: int
    entries: list[Any]


class SnapshotStore(Protocol):
    ttl: float
    max_entries: int

    async def create(self, snapshot: Snapshot, entries: Sequence[Any]) -> str: ...

    async def page(self, snapshot_id: str, offset: int, limit: int) -> SnapshotPage:
        """Raise CursorExpired when the snapshot is gone."""
        ...

    async def check(self, timeout: float) -> str | None:
        """None when snapshots can be kept now, else why not (for readiness)."""
        ...

    async def aclose(self) -> None: ...


def _new_id() -> str:
    return secrets.token_hex(12)


class MemorySnapshotStore:
    """Snapshots in this process's memory, bounded by age, by count and by the entries they hold.

    Entries are kept orjson-encoded in chunks of ``CHUNK_ENTRIES``: bytes are not containers, so
    thousands of stored listings add nothing to the garbage collector's work (as dicts, every full
    collection would walk each of their objects), and a few large buffers cost far less to allocate
    than one small one per entry; a page decodes only
    the one or two chunks it spans.  The encoding is written behind: ``create`` keeps the entries
    as given and encodes them once the first page's answer is out of the way (``afterwards``),
    ``CHUNKS_PER_TURN`` chunks a turn of the event loop, so requests that arrive meanwhile are not
    held up by a large snapshot; a page asked before the encoding is done is read from the entries
    themselves.  When ``memory_entries`` is exceeded the oldest snapshots go first; a cursor into one
    of them gets ``CURSOR_EXPIRED``.
    """

    CHUNK_ENTRIES = 64
    CHUNKS_PER_TURN = 4

    def __init__(
        self,
        *,
        ttl: float = 600.0,
        max_snapshots: int = 1000,
        max_entries: int = 100_000,
        memory_entries: int = 300_000,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._max_snapshots = max_snapshots
        self._memory_entries = memory_entries
        self._held = 0
        self._items: OrderedDict[str, _HeldSnapshot] = OrderedDict()

    async def create(self, snapshot: Snapshot, entries: Sequence[Any]) -> str:
        self._evict_expired()
        snapshot_id = _new_id()
        # Kept as given until encoded: a listing's entries are made as they are read (sliced).
        held = _HeldSnapshot(time.monotonic() + self.ttl, snapshot, len(entries), entries)
        self._items[snapshot_id] = held
        afterwards.later(self._write_behind, snapshot_id, held)
        self._held += len(entries)
        while len(self._items) > 1 and (
            len(self._items) > self._max_snapshots or self._held > self._memory_entries
        ):
            self._drop(next(iter(self._items)))
        return snapshot_id

    async def page(self, snapshot_id: str, offset: int, limit: int) -> SnapshotPage:
        item = self._items.get(snapshot_id)
        if item is None or item.expires < time.monotonic():
            self._drop(snapshot_id)
            raise CursorExpired("the cursor has expired; start again without `after`")
        if item.pending is not None:  # still being written behind: the entries are at hand
            return SnapshotPage(
                snapshot_id, item.snapshot, offset, list(item.pending[offset : offset + limit])
            )
        size = self.CHUNK_ENTRIES
        first, last = offset // size, (offset + limit - 1) // size
        spanned: list[Any] = []
        for chunk in item.chunks[first : last + 1]:
            spanned.extend(orjson.loads(chunk))
        start = offset - first * size
        return SnapshotPage(snapshot_id, item.snapshot, offset, spanned[start : start + limit])

    @property
    def entries_held(self) -> int:
        return self._held

    def _write_behind(self, snapshot_id: str, held: _HeldSnapshot) -> None:
        if self._items.get(snapshot_id) is not held:
            return  # dropped meanwhile
        self._encode(held, self.CHUNKS_PER_TURN)
        if held.pending is not None:
            asyncio.get_running_loop().call_soon(self._write_behind, snapshot_id, held)

    def _encode(self, held: _HeldSnapshot, chunks: int) -> None:
        """Encode ``chunks`` more chunks of the pending entries."""
        pending = held.pending
        if pending is None:
            return
        size = self.CHUNK_ENTRIES
        stop = min(len(pending), held.encoded + chunks * size)
        held.chunks.extend(
            orjson.dumps(pending[start : start + size]) for start in range(held.encoded, stop, size)
        )
        held.encoded = stop
        if stop >= len(pending):
            held.pending = None

    def _drop(self, snapshot_id: str) -> None:
        item = self._items.pop(snapshot_id, None)
        if item is not None:
            self._held -= item.count

    def _evict_expired(self) -> None:
        # Snapshots live ``ttl`` each, so they expire in the order they were made, and eviction stops
        # at the first live one (O(expired), not O(held): it runs on every first page).  Should ``ttl``
        # shrink at run time, a later snapshot is evicted late, but ``page`` still refuses it.
        now = time.monotonic()
        while self._items:
            oldest = next(iter(self._items))
            if self._items[oldest].expires >= now:
                break
            self._drop(oldest)

    async def check(self, timeout: float) -> str | None:
        return None  # this process's memory is always there

    async def aclose(self) -> None:
        self._items.clear()
        self._held = 0


@dataclass(slots=True)
class _HeldSnapshot:
    expires: float
    snapshot: Snapshot
    count: int
    pending: Sequence[Any] | None
    """The entries until they are all encoded into ``chunks``."""
    chunks: list[bytes] = field(default_factory=list)
    encoded: int = 0
    """How many of ``pending`` are in ``chunks``."""


LOCAL_SNAPSHOT_MARK = "l"
"""Starts the id of a snapshot kept in this process because Redis could not take it."""


def snapshot_warning(snapshot_id: str) -> str | None:
    """What a caller should know about where its snapshot lives, if anything."""
    if snapshot_id.startswith(LOCAL_SNAPSHOT_MARK):
        return (
            "Redis is unreachable: this answer's later pages are kept by this gateway replica only "
            "(another replica answers CURSOR_EXPIRED)"
        )
    return None


class RedisSnapshotStore:
    """Snapshots in Redis: a JSON metadata key and a list of JSON entries, both with the same TTL.

    While Redis cannot take a snapshot, it is kept in this process instead (logged, and its id marked
    so that the answer warns the caller and later pages find it here): paging degrades to one
    replica's memory, never to an internal error.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 600.0,
        max_entries: int = 100_000,
        prefix: str = "dcg:snapshot",
        fallback: MemorySnapshotStore | None = None,
    ) -> None:
        import redis.asyncio as redis  # imported lazily: only deployments that configure Redis need it

        self.ttl = ttl
        self.max_entries = max_entries
        self._prefix = prefix
        self._redis = redis.from_url(url)
        self._fallback = fallback or MemorySnapshotStore(ttl=ttl, max_entries=max_entries)

    def _keys(self, snapshot_id: str) -> tuple[str, str]:
        return f"{self._prefix}:{snapshot_id}:meta", f"{self._prefix}:{snapshot_id}:entries"

    async def create(self, snapshot: Snapshot, entries: Sequence[Any]) -> str:
        try:
            return await self._create(snapshot, entries)
        except Exception as error:  # the client's errors, sockets, timeouts: Redis is not there now
            logger.warning("Redis unreachable, snapshot kept in this process: %s", type(error).__name__)
            return LOCAL_SNAPSHOT_MARK + await self._fallback.create(snapshot, entries)

    async def _create(self, snapshot: Snapshot, entries: Sequence[Any]) -> str:
        snapshot_id = _new_id()
        meta_key, entries_key = self._keys(snapshot_id)
        ttl_ms = int(self.ttl * 1000)
        meta = orjson.dumps(
            {
                "query_key": snapshot.query_key,
                "created_at": snapshot.created_at,
                "total": snapshot.total,
                "sources": snapshot.sources,
            }
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(meta_key, meta, px=ttl_ms)
            for start in range(0, len(entries), 1000):
                pipe.rpush(entries_key, *[orjson.dumps(e) for e in entries[start : start + 1000]])
            if entries:
                pipe.pexpire(entries_key, ttl_ms)
            await pipe.execute()
        return snapshot_id

    async def page(self, snapshot_id: str, offset: int, limit: int) -> SnapshotPage:
        if snapshot_id.startswith(LOCAL_SNAPSHOT_MARK):
            local = await self._fallback.page(snapshot_id[len(LOCAL_SNAPSHOT_MARK) :], offset, limit)
            return SnapshotPage(snapshot_id, local.snapshot, local.offset, local.entries)
        meta_key, entries_key = self._keys(snapshot_id)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(meta_key)
                pipe.lrange(entries_key, offset, offset + limit - 1)
                meta_raw, raw_entries = await pipe.execute()
        except Exception as error:
            logger.warning("Redis unreachable, a snapshot cannot be read: %s", type(error).__name__)
            raise CursorExpired(
                "the snapshot store (Redis) is unreachable; start again without `after`"
            ) from error
        if meta_raw is None:
            raise CursorExpired("the cursor has expired; start again without `after`")
        meta = orjson.loads(meta_raw)
        snapshot = Snapshot(meta["query_key"], meta["created_at"], meta["total"], meta["sources"])
        return SnapshotPage(snapshot_id, snapshot, offset, [orjson.loads(e) for e in raw_entries])

    async def check(self, timeout: float) -> str | None:
        try:
            async with asyncio.timeout(timeout):
                await self._redis.ping()
        except Exception as error:  # the client's own errors, timeouts, sockets: all mean "not now"
            return f"Redis cannot be reached ({type(error).__name__})"
        return None

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._fallback.aclose()

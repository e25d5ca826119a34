import asyncio
import os
import uuid

import pytest

from gateway.core.snapshots import (
    MemorySnapshotStore,
    RedisSnapshotStore,
    Snapshot,
    decode_cursor,
    encode_cursor,
)
from gateway.errors import CursorExpired, InvalidCursor

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_cursor_round_trip_and_rejection() -> None:
    cursor = encode_cursor("abc123", 50)
    assert decode_cursor(cursor) == ("abc123", 50)
    for bad in ["", "!!!", "bm90IGEgY3Vyc29y", encode_cursor("abc", -1), encode_cursor("a:b", 1)]:
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


def _meta(total: int) -> Snapshot:
    return Snapshot(query_key="q", created_at=1.0, total=total, sources=[{"provider": "getresponse"}])


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest):
    if request.param == "memory":
        yield MemorySnapshotStore(ttl=0.5)
    else:
        redis_store = RedisSnapshotStore(REDIS_URL, ttl=0.5, prefix=f"test:{uuid.uuid4().hex}")
        yield redis_store
        await redis_store.aclose()


async def test_pages_slice_the_snapshot_and_expire(store) -> None:
    entries = [["getresponse", {"n": i}] for i in range(2500)]
    snapshot_id = await store.create(_meta(len(entries)), entries)
    first = await store.page(snapshot_id, 0, 3)
    assert [e[1]["n"] for e in first.entries] == [0, 1, 2]
    assert first.snapshot.total == 2500 and first.snapshot.sources == [{"provider": "getresponse"}]
    last = await store.page(snapshot_id, 2498, 10)
    assert [e[1]["n"] for e in last.entries] == [2498, 2499]
    await asyncio.sleep(0.7)
    with pytest.raises(CursorExpired):
        await store.page(snapshot_id, 0, 3)


async def test_empty_snapshot_and_unknown_id(store) -> None:
    snapshot_id = await store.create(_meta(0), [])
    assert (await store.page(snapshot_id, 0, 10)).entries == []
    with pytest.raises(CursorExpired):
        await store.page("deadbeef", 0, 10)


async def test_memory_store_drops_the_oldest_snapshots_beyond_its_entry_budget() -> None:
    store = MemorySnapshotStore(memory_entries=250)
    first = await store.create(_meta(100), [["getresponse", {"n": i}] for i in range(100)])
    second = await store.create(_meta(100), [["getresponse", {"n": i}] for i in range(100)])
    assert store.entries_held == 200
    third = await store.create(_meta(100), [["getresponse", {"n": i}] for i in range(100)])
    assert store.entries_held == 200
    with pytest.raises(CursorExpired):
        await store.page(first, 0, 1)
    for kept in (second, third):
        assert (await store.page(kept, 99, 5)).entries == [["getresponse", {"n": 99}]]


@pytest.mark.parametrize(
    ("offset", "limit"), [(0, 64), (0, 65), (63, 2), (64, 64), (100, 50), (190, 50), (199, 1)]
)
async def test_memory_pages_across_chunk_boundaries_are_exact_slices(offset: int, limit: int) -> None:
    store = MemorySnapshotStore()
    assert store.CHUNK_ENTRIES == 64  # the offsets above straddle its boundaries
    entries = [["constant_contact", {"n": i}] for i in range(200)]
    snapshot_id = await store.create(_meta(len(entries)), entries)
    assert (await store.page(snapshot_id, offset, limit)).entries == entries[offset : offset + limit]


async def test_memory_snapshots_are_encoded_behind_the_answer_and_on_demand() -> None:
    store = MemorySnapshotStore()
    entries = [["getresponse", {"n": i}] for i in range(100)]
    early = await store.create(_meta(100), entries)
    assert (await store.page(early, 0, 2)).entries == entries[:2]  # asked before the loop turned
    later = await store.create(_meta(100), [["getresponse", {"n": i}] for i in range(100)])
    held = store._items[later]
    assert held.pending is not None and held.chunks == []  # not encoded while the request runs
    await asyncio.sleep(0)  # the event loop's next turn
    assert held.pending is None and len(held.chunks) == 2
    assert (await store.page(later, 99, 5)).entries == [["getresponse", {"n": 99}]]

import asyncio
import base64
import os
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core import afterwards
from gateway.core.snapshots import (
    MemorySnapshotStore,
    RedisSnapshotStore,
    Snapshot,
    decode_cursor,
    encode_cursor,
)
from gateway.errors import CursorExpired, InvalidCursor
from gateway.schema.ids import decode_global_id, encode_global_id

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_cursor_round_trip_and_rejection() -> None:
    cursor = encode_cursor("abc123", 50)
    assert decode_cursor(cursor) == ("abc123", 50)
    for bad in ["", "!!!", "bm90IGEgY3Vyc29y", encode_cursor("abc", -1), encode_cursor("a:b", 1)]:
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


async def _until(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    """Let the event loop turn, one turn at a time, until ``condition`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0)


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


async def test_memory_snapshots_are_encoded_behind_the_answer_and_read_from_the_entries_until_then() -> None:
    store = MemorySnapshotStore()
    entries = [["getresponse", {"n": i}] for i in range(100)]
    early = await store.create(_meta(100), entries)
    assert (await store.page(early, 0, 2)).entries == entries[:2]  # asked before the loop turned
    later = await store.create(_meta(100), [["getresponse", {"n": i}] for i in range(100)])
    held = store._items[later]
    assert held.pending is not None and held.chunks == []  # not encoded while the request runs
    await asyncio.sleep(0)  # nor on the event loop's next turn, where the next request would be
    assert held.pending is not None and held.chunks == []
    await asyncio.sleep(afterwards.DELAY * 2)
    assert held.pending is None and len(held.chunks) == 2
    assert (await store.page(later, 99, 5)).entries == [["getresponse", {"n": 99}]]


async def test_large_memory_snapshots_are_encoded_a_few_chunks_per_turn_of_the_event_loop() -> None:
    store = MemorySnapshotStore()
    size, per_turn = store.CHUNK_ENTRIES, store.CHUNKS_PER_TURN
    entries = [["getresponse", {"n": i}] for i in range(size * per_turn * 2 + 1)]  # 2 turns and 1 chunk
    snapshot_id = await store.create(_meta(len(entries)), entries)
    held = store._items[snapshot_id]
    await _until(lambda: bool(held.chunks))
    assert len(held.chunks) == per_turn and held.pending is not None  # other work can run in between
    # A page asked meanwhile is read from the entries themselves; the encoding goes on behind it.
    assert (await store.page(snapshot_id, len(entries) - 2, 5)).entries == entries[-2:]
    assert len(held.chunks) == per_turn
    for _ in range(3):
        await asyncio.sleep(0)
    assert held.pending is None and len(held.chunks) == per_turn * 2 + 1
    assert (await store.page(snapshot_id, 0, len(entries))).entries == entries
    assert (await store.page(snapshot_id, size - 1, 3)).entries == entries[size - 1 : size + 2]


@given(
    snapshot_id=st.text(alphabet="0123456789abcdef", min_size=1, max_size=32), offset=st.integers(0, 10**12)
)
def test_cursors_are_url_safe_base64_without_padding(snapshot_id: str, offset: int) -> None:
    expected = base64.urlsafe_b64encode(f"v1:{snapshot_id}:{offset}".encode()).decode().rstrip("=")
    assert encode_cursor(snapshot_id, offset) == expected
    assert decode_cursor(expected) == (snapshot_id, offset)


@given(
    type_name=st.sampled_from(["GetResponseDeletedContact", "BulkOperation"]), local_id=st.text(min_size=1)
)
def test_global_ids_are_url_safe_base64_without_padding(type_name: str, local_id: str) -> None:
    expected = base64.urlsafe_b64encode(f"{type_name}:{local_id}".encode()).decode().rstrip("=")
    assert encode_global_id(type_name, local_id) == expected
    assert decode_global_id(expected) == (type_name, local_id)


async def test_expired_memory_snapshots_are_evicted_oldest_first_when_snapshots_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("gateway.core.snapshots.time.monotonic", lambda: now[0])
    store = MemorySnapshotStore(ttl=10.0)
    made = []
    for _ in range(5):
        made.append(await store.create(_meta(1), [["getresponse", {}]]))
        now[0] += 3.0  # made at 1000, 1003, 1006, 1009, 1012: expiring at 1010, 1013, ...
    await store.create(_meta(1), [["getresponse", {}]])  # at 1015: the first two have expired
    assert [key for key in made if key in store._items] == made[2:]
    assert store.entries_held == 4

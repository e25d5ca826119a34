"""Idempotency keys: claim once, replay the result, refuse other input, release on failure; both stores."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.core.idempotency import (
    IdempotencyInProgress,
    IdempotencyStore,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
)

from ..idempotency_contract import claims_then_replays, keeps_principals_apart

Store = MemoryIdempotencyStore | RedisIdempotencyStore
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["memory", "redis"])
async def store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[MemoryIdempotencyStore | RedisIdempotencyStore]:
    if request.param == "memory":
        yield MemoryIdempotencyStore(ttl=0.5)
    else:
        redis_store = RedisIdempotencyStore(REDIS_URL, ttl=0.5, prefix=f"test:{uuid.uuid4().hex}")
        yield redis_store
        await redis_store.aclose()


async def test_the_first_request_claims_and_later_ones_replay(store: IdempotencyStore) -> None:
    await claims_then_replays(store)


async def test_one_principals_keys_are_invisible_to_another(
    store: Store,
) -> None:
    await keeps_principals_apart(store)


async def test_a_released_or_expired_key_runs_again(store: IdempotencyStore) -> None:
    assert await store.claim("k", "input") is None
    await store.release("k")
    assert await store.claim("k", "input") is None
    await store.complete("k", "input", b"{}")
    await asyncio.sleep(0.7)
    assert await store.claim("k", "input") is None


async def test_memory_store_forgets_the_oldest_keys_beyond_its_bound() -> None:
    store = MemoryIdempotencyStore(max_keys=2)
    for key in ("a", "b", "c"):
        assert await store.claim(key, "x") is None
    assert await store.claim("a", "x") is None  # forgotten, so it runs again
    with pytest.raises(IdempotencyInProgress):
        await store.claim("c", "x")

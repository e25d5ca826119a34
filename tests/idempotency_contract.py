"""What every idempotency store does, whatever keeps its records (memory, Redis, the database)."""

from __future__ import annotations

import pytest

from gateway.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused, IdempotencyStore

__all__ = ["claims_then_replays"]


async def claims_then_replays(store: IdempotencyStore) -> None:
    """The first claim runs, a concurrent one is told to wait, a completed key replays its result, the
    same key with other input is refused, and another key runs."""
    assert await store.claim("k", "input-1") is None
    with pytest.raises(IdempotencyInProgress) as running:
        await store.claim("k", "input-1")
    assert running.value.retry_after > 0
    await store.complete("k", "input-1", b'{"answer": 1}')
    assert await store.claim("k", "input-1") == b'{"answer": 1}'
    assert await store.claim("k", "input-1") == b'{"answer": 1}'
    with pytest.raises(IdempotencyKeyReused):
        await store.claim("k", "input-2")
    assert await store.claim("other key", "input-2") is None

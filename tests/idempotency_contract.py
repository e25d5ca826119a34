"""What every idempotency store does, whatever keeps its records (memory, Redis, the database)."""

from __future__ import annotations

import pytest

from gateway.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused, IdempotencyStore
from gateway.core.principals import Principal, PrincipalKind
from gateway.core.store_ports import PrincipalIdempotencyStore

__all__ = ["ALICE", "BOB", "claims_then_replays", "keeps_principals_apart"]

ALICE = Principal(PrincipalKind.KEY, "k-alice", "alice", frozenset({"contacts:restore"}))
BOB = Principal(PrincipalKind.TOKEN, "https://issuer.example k-alice", "bob", frozenset())
"""Bob's id ends with Alice's: a store that joined ids carelessly would mix their keys up."""


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


async def keeps_principals_apart(store: PrincipalIdempotencyStore) -> None:
    """The same key sent by two principals names two records: neither waits for, replays or is
    refused by the other's, and a release by one leaves the other's result alone."""
    alice, bob = store.for_principal(ALICE), store.for_principal(BOB)
    assert await alice.claim("k", "alice's input") is None
    assert await bob.claim("k", "bob's input") is None  # not IN_PROGRESS, not KEY_REUSED: his own key
    await alice.complete("k", "alice's input", b'"alice"')
    await bob.complete("k", "bob's input", b'"bob"')
    assert await alice.claim("k", "alice's input") == b'"alice"'
    assert await bob.claim("k", "bob's input") == b'"bob"'
    await bob.release("k")
    assert await alice.claim("k", "alice's input") == b'"alice"'
    # A principal whose id is another's kind and id spelled together stays apart as well.
    tricky = store.for_principal(Principal(PrincipalKind.KEY, "k-alice:k", "mallory", frozenset()))
    assert await tricky.claim("k", "alice's input") is None

"""Idempotency keys in the database: the stores' contract, one winner among concurrent claims on two
replicas, replay after a restart, and one principal's records invisible to another."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from gateway.errors import DatabaseError
from gateway.store import Database, DatabaseIdempotencyStore, KeyStore
from gateway.store.models import IdempotencyRecord

from ..idempotency_contract import ALICE, BOB, claims_then_replays, keeps_principals_apart


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_the_first_request_claims_and_later_ones_replay(database: Database) -> None:
    store = DatabaseIdempotencyStore(database)
    await claims_then_replays(store)


async def test_the_principals_contract_holds(database: Database) -> None:
    await keeps_principals_apart(DatabaseIdempotencyStore(database))


async def test_a_released_key_runs_again_and_a_result_is_never_released(database: Database) -> None:
    store = DatabaseIdempotencyStore(database)
    assert await store.claim("k", "input") is None
    await store.release("k")
    assert await store.claim("k", "input") is None
    await store.complete("k", "input", b"{}")
    await store.release("k")  # a duplicate that failed must not erase the first request's result
    assert await store.claim("k", "input") == b"{}"


async def test_expiry_is_honoured_for_results_and_for_abandoned_claims(database: Database) -> None:
    clock = Clock()
    store = DatabaseIdempotencyStore(database, ttl=3600, claim_seconds=60, clock=clock)
    assert await store.claim("done", "x") is None
    await store.complete("done", "x", b"1")
    assert await store.claim("abandoned", "x") is None  # its process died: never completed
    clock.now += timedelta(seconds=59)
    with pytest.raises(IdempotencyInProgress):
        await store.claim("abandoned", "x")
    clock.now += timedelta(seconds=2)
    assert await store.claim("abandoned", "x") is None  # the lease lapsed: a retry may run
    assert await store.claim("done", "x") == b"1"
    clock.now += timedelta(seconds=3600)
    assert await store.claim("done", "x") is None  # the result's time is up: it runs again
    clock.now += timedelta(days=1)
    assert await store.purge_expired() == 2
    async with database.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(IdempotencyRecord))).scalar() == 0


async def test_concurrent_claims_on_two_replicas_have_exactly_one_winner(
    database: Database, replica: Database
) -> None:
    stores = [DatabaseIdempotencyStore(database), DatabaseIdempotencyStore(replica)]

    async def claim(store: DatabaseIdempotencyStore, key: str) -> str:
        try:
            return "won" if await store.claim(key, "same input") is None else "replayed"
        except IdempotencyInProgress:
            return "told to wait"

    for attempt in range(10):
        key = f"restore-{attempt}"
        outcomes = await asyncio.gather(*(claim(stores[i % 2], key) for i in range(6)))
        assert sorted(outcomes) == ["told to wait"] * 5 + ["won"], outcomes


async def test_a_completed_result_replays_after_a_restart(database_url: str, database: Database) -> None:
    first = DatabaseIdempotencyStore(database)
    assert await first.claim("ticket-4411", "input") is None
    await first.complete("ticket-4411", "input", b'{"results": ["DONE"]}')
    await database.aclose()  # the process stops...

    restarted = Database(database_url)  # ...and a new one opens the same database
    try:
        store = DatabaseIdempotencyStore(restarted)
        assert await store.claim("ticket-4411", "input") == b'{"results": ["DONE"]}'
        with pytest.raises(IdempotencyKeyReused):
            await store.claim("ticket-4411", "other input")
    finally:
        await restarted.aclose()


async def test_principals_never_see_each_others_keys(database: Database, replica: Database) -> None:
    shared = DatabaseIdempotencyStore(database)
    alice, bob = shared.for_principal(ALICE), DatabaseIdempotencyStore(replica).for_principal(BOB)
    assert await alice.claim("k", "alice's input") is None
    assert await bob.claim("k", "bob's input") is None  # not IN_PROGRESS, not KEY_REUSED: his own key
    await alice.complete("k", "alice's input", b'"alice"')
    await bob.complete("k", "bob's input", b'"bob"')
    assert await alice.claim("k", "alice's input") == b'"alice"'
    assert await bob.claim("k", "bob's input") == b'"bob"'
    assert await shared.claim("k", "anonymous input") is None  # nor does a request with no principal
    await bob.release("k")  # a release touches only the releasing principal's claim (none: completed)
    await shared.release("k")
    assert await alice.claim("k", "alice's input") == b'"alice"'


async def test_an_unreachable_database_is_a_typed_error_without_its_password() -> None:
    unreachable = Database("postgresql+asyncpg://gateway:s3cret-pw@127.0.0.1:1/gateway", pool_timeout=2)
    try:
        with pytest.raises(DatabaseError) as failed:
            await DatabaseIdempotencyStore(unreachable).claim("k", "x")
        assert failed.value.code == "DATABASE_ERROR" and "s3cret-pw" not in failed.value.message
        with pytest.raises(DatabaseError):
            await KeyStore(unreachable).verify("dcg_abcdefghijkl_" + "s" * 43)
    finally:
        await unreachable.aclose()

"""The cache of verified service keys answers exactly as the plain lookup does, and saves the lookup.

Each scenario runs through both verifiers -- ``KeyStore.verify`` (plain: the key's row every time)
and ``CachedKeyVerifier`` (fast) -- on SQLite and PostgreSQL, and their answers must be equal.  A
revocation is made through a second engine on the same database, as another replica or
``gateway keys revoke`` would make it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import delete

from gateway.core.principals import Principal
from gateway.errors import DatabaseError
from gateway.store import Database, KeyStore, ensure_schema
from gateway.store.key_cache import CachedKeyVerifier
from gateway.store.models import ApiKey
from gateway.store.revocations import revocation_counter

from ..databases import POSTGRES_ADMIN_URL


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingKeyStore(KeyStore):
    """Counts the lookups of a key's row, to show which answers came from memory."""

    lookups = 0

    async def verified_key(self, credential: str) -> tuple[Principal, datetime | None] | None:
        self.lookups += 1
        return await super().verified_key(credential)


def cached(store: KeyStore, database: Database, clock: Clock, *, max_entries: int = 100) -> CachedKeyVerifier:
    return CachedKeyVerifier(
        store,
        revocation_counter(database, timeout=5),
        max_entries=max_entries,
        touch_interval=60,
        clock=clock,
    )


async def scenario(database: Database, replica: Database, fast: bool) -> list[object]:
    """Answers to a fixed sequence: verify, revoke elsewhere, expire, unknown keys."""
    clock = Clock()
    store = CountingKeyStore(database, clock=clock)
    other_replica = KeyStore(replica, clock=clock)
    verifier = cached(store, database, clock) if fast else store
    a = await store.create("a", ["contacts:read"])
    b = await store.create("b", ["contacts:delete"], expires_in=timedelta(hours=1))
    c = await store.create("c", ["audit:read"])
    answers: list[object] = []

    async def ask(credential: str) -> None:
        principal = await verifier.verify(credential)
        answers.append(None if principal is None else (principal.name, sorted(principal.scopes)))

    for credential in (a.credential, b.credential, c.credential, a.credential, b.credential):
        await ask(credential)
    await other_replica.revoke("a")
    await ask(a.credential)  # revoked elsewhere: refused at once
    await ask(b.credential)
    clock.now += timedelta(hours=2)
    await ask(b.credential)  # expired while cached
    await ask(c.credential)
    await ask(a.credential[:-1] + ("x" if a.credential[-1] != "x" else "y"))  # wrong secret
    await ask("dcg_unknownprefix_secret")
    await ask("not a key")
    if isinstance(verifier, CachedKeyVerifier):
        await verifier.aclose()
    return answers


async def test_cached_and_plain_verification_give_the_same_answers(
    database: Database, replica: Database
) -> None:
    plain = await scenario(database, replica, fast=False)
    async with database.begin() as connection:  # the same names again, from no keys
        await connection.execute(delete(ApiKey))
    fast = await scenario(database, replica, fast=True)
    assert fast == plain
    assert plain == [
        ("a", ["contacts:read"]),
        ("b", ["contacts:delete"]),
        ("c", ["audit:read"]),
        ("a", ["contacts:read"]),
        ("b", ["contacts:delete"]),
        None,
        ("b", ["contacts:delete"]),
        None,
        ("c", ["audit:read"]),
        None,
        None,
        None,
    ]


async def test_a_cached_key_is_answered_without_reading_its_row(database: Database) -> None:
    clock = Clock()
    store = CountingKeyStore(database, clock=clock)
    verifier = cached(store, database, clock)
    issued = await store.create("svc", ["contacts:read"])
    for _ in range(5):
        assert await verifier.verify(issued.credential) is not None
    assert store.lookups == 1
    await verifier.aclose()


async def test_a_revocation_anywhere_empties_the_cache(database: Database, replica: Database) -> None:
    clock = Clock()
    store = CountingKeyStore(database, clock=clock)
    verifier = cached(store, database, clock)
    kept = await store.create("kept", ["contacts:read"])
    revoked = await store.create("revoked", ["contacts:read"])
    assert await verifier.verify(kept.credential) is not None
    assert await verifier.verify(revoked.credential) is not None
    await KeyStore(replica).revoke("revoked")
    assert await verifier.verify(revoked.credential) is None
    assert await verifier.verify(kept.credential) is not None
    assert store.lookups == 4  # both looked up again after the revocation
    await verifier.aclose()


async def test_refused_credentials_are_not_cached(database: Database) -> None:
    clock = Clock()
    store = CountingKeyStore(database, clock=clock)
    verifier = cached(store, database, clock)
    issued = await store.create("svc", ["contacts:read"])
    wrong = issued.credential[:-2] + "zz"
    for _ in range(3):
        assert await verifier.verify(wrong) is None
    assert store.lookups == 3
    assert await verifier.verify("garbage") is None
    assert store.lookups == 3  # malformed: not even looked up
    await verifier.aclose()


async def test_the_cache_keeps_at_most_its_size(database: Database) -> None:
    clock = Clock()
    store = CountingKeyStore(database, clock=clock)
    verifier = cached(store, database, clock, max_entries=2)
    issued = [await store.create(f"k{n}", ["contacts:read"]) for n in range(3)]
    for key in issued:
        await verifier.verify(key.credential)
    assert store.lookups == 3
    await verifier.verify(issued[2].credential)
    await verifier.verify(issued[1].credential)
    assert store.lookups == 3  # the two most recent are cached
    await verifier.verify(issued[0].credential)
    assert store.lookups == 4  # the oldest was dropped
    await verifier.aclose()


async def test_an_unreadable_database_is_a_database_error_not_a_refusal(database: Database) -> None:
    clock = Clock()
    store = KeyStore(database, clock=clock)
    counter = revocation_counter(database, timeout=1)
    verifier = CachedKeyVerifier(store, counter, max_entries=10, touch_interval=60, clock=clock)
    issued = await store.create("svc", ["contacts:read"])
    assert await verifier.verify(issued.credential) is not None
    await database.aclose()
    if database.is_sqlite:
        assert database.url.database
        await counter.aclose()
        for suffix in ("", "-wal", "-shm"):
            Path(database.url.database + suffix).unlink(missing_ok=True)
    else:
        await _terminate_connections(database)
    try:
        await verifier.verify(issued.credential)
    except DatabaseError:
        pass
    else:
        raise AssertionError("a database that cannot be read must not answer from the cache")


async def _terminate_connections(database: Database) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        name = database.url.database
        await admin.execute(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false; '
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
    finally:
        await admin.close()


async def test_an_sqlite_file_in_a_directory_with_uri_characters_is_found(tmp_path: Path) -> None:
    directory = tmp_path / "odd ?#% name"
    database = Database(f"sqlite+aiosqlite:///{directory / 'gateway.db'}")
    await ensure_schema(database, migrate=True)
    try:
        await KeyStore(database).revoke((await KeyStore(database).create("k", ["contacts:read"])).key.id)
        counter = revocation_counter(database, timeout=1)
        assert await counter.count() == 1
        await counter.aclose()
    finally:
        await database.aclose()

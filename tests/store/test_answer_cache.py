"""The index's revision (migration 0008) and the answer cache keyed by it, on SQLite and PostgreSQL:
every write to a provider's rows counts its revision up, and an answer is reused only at the version
of the index it was computed at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.answer_cache import AnswerCache, IndexVersion, answer_key
from gateway.core.deleted_pages import IndexAccess
from gateway.core.index import SyncBatch, SyncState
from gateway.core.model import ContactKey, Provider
from gateway.store import Database, DatabaseIndex

from .migrating import migrate
from .test_index import contact

CC, GR = Provider.CONSTANT_CONTACT, Provider.GETRESPONSE
MOMENT = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


async def _revisions(index: DatabaseIndex) -> dict[Provider, int]:
    return {provider: state.revision for provider, state in (await index.states()).items()}


async def test_every_write_to_a_providers_rows_counts_its_revision_up(database: Database) -> None:
    index = DatabaseIndex(database)
    await index.save_state(SyncState(CC, backfilled_at=MOMENT, synced_at=MOMENT))
    await index.save_state(SyncState(GR, backfilled_at=MOMENT, synced_at=MOMENT))
    seen = [await _revisions(index)]

    async def changed(provider: Provider) -> None:
        now = await _revisions(index)
        before = seen[-1]
        assert now[provider] > before[provider], provider
        other = GR if provider is CC else CC
        assert now[other] == before[other], "a write to one provider moved the other's revision"
        seen.append(now)

    await index.apply(CC, SyncBatch(deleted=[contact(CC, "a", "a@x.io"), contact(CC, "b", "b@x.io")]))
    await changed(CC)
    await index.apply(CC, SyncBatch(not_deleted=["a"]))  # a revival
    await changed(CC)
    await index.remove([ContactKey(CC, "b")])
    await changed(CC)
    await index.apply(GR, SyncBatch(deleted=[contact(GR, "g", "g@x.io", campaign_id="c1")]))
    await changed(GR)
    started = datetime.now(UTC)
    await index.apply(GR, SyncBatch(deleted=[]), full_run="run-1")
    await changed(GR)
    await index.finish_full_run(GR, "run-1", started)  # drops "g": the run did not see it
    await changed(GR)
    # Saving a sync state writes no row: the revision stays.
    await index.save_state(SyncState(CC, backfilled_at=MOMENT, synced_at=MOMENT + timedelta(minutes=1)))
    assert await _revisions(index) == seen[-1]


async def test_migration_0008_goes_down_and_up(database: Database) -> None:
    index = DatabaseIndex(database)
    await index.apply(CC, SyncBatch(deleted=[contact(CC, "k", "k@x.io")]))
    down = await migrate(database, "downgrade", "0007")
    assert "sync_state" in down.tables
    await migrate(database, "upgrade", "head")
    state = (await index.states())[CC]
    assert state.contacts == 1 and state.revision == 0  # the column comes back at zero
    await index.apply(CC, SyncBatch(deleted=[contact(CC, "l", "l@x.io")]))
    assert (await index.states())[CC].revision == 1


async def test_an_answer_is_reused_only_at_the_version_it_was_computed_at(database: Database) -> None:
    index = DatabaseIndex(database)
    cache = AnswerCache(IndexAccess(index, state_ttl=0), [CC, GR], max_bytes=100_000)
    assert await cache.version() is None  # no index built: nothing is reused
    await index.save_state(SyncState(CC, backfilled_at=MOMENT, synced_at=MOMENT))
    assert await cache.version() is None  # one of the configured providers is still being built
    await index.save_state(SyncState(GR, backfilled_at=MOMENT, synced_at=MOMENT))
    first = await cache.version()
    assert first is not None and first == await cache.version()

    key = answer_key("{ deletedContacts { totalCount } }", None, None, ["contacts:read"])
    cache.put(key, first, {"deletedContacts": {"totalCount": 0}})
    assert cache.get(key, first) == {"deletedContacts": {"totalCount": 0}}

    await index.apply(GR, SyncBatch(deleted=[contact(GR, "g", "g@x.io", campaign_id="c1")]))
    second = await cache.version()
    assert second is not None and second != first
    assert cache.get(key, second) is None
    assert len(cache) == 0, "an answer of an older version is dropped when found"

    cache.put(key, second, {"deletedContacts": {"totalCount": 1}})
    # A sync that changed no row still moves syncedAt, which answers show: a new version.
    await index.save_state(SyncState(CC, backfilled_at=MOMENT, synced_at=MOMENT + timedelta(minutes=1)))
    third = await cache.version()
    assert third is not None and third != second and cache.get(key, third) is None
    # So does a failed sync, whose failure answers show (sources.message).
    cache.put(key, third, {"deletedContacts": {"totalCount": 1}})
    failed = SyncState(CC, backfilled_at=MOMENT, synced_at=MOMENT + timedelta(minutes=1), last_error="boom")
    await index.save_state(failed)
    fourth = await cache.version()
    assert fourth is not None and fourth != third and cache.get(key, fourth) is None
    assert (cache.hits, cache.misses) == (1, 3)


async def test_the_cache_keeps_at_most_its_bytes_least_recently_used_going_first(
    database: Database,
) -> None:
    cache = AnswerCache(IndexAccess(DatabaseIndex(database)), [CC], max_bytes=1_000)
    version = IndexVersion((SyncState(CC, backfilled_at=MOMENT, revision=1),))
    answer = {"v": "x" * 100}  # about 110 bytes encoded
    keys = [answer_key(f"q{number}", None, None, ()) for number in range(12)]
    for key in keys[:8]:
        cache.put(key, version, answer)
    assert len(cache) == 8 and cache.held_bytes <= 1_000
    assert cache.get(keys[0], version) is not None  # now the most recently used
    for key in keys[8:]:
        cache.put(key, version, answer)
    assert cache.held_bytes <= 1_000
    assert cache.get(keys[0], version) is not None
    assert cache.get(keys[1], version) is None, "the least recently used answer should have gone"
    cache.put(answer_key("big", None, None, ()), version, {"v": "x" * 300})  # over a quarter: not kept
    assert cache.get(answer_key("big", None, None, ()), version) is None


def test_answer_keys_tell_apart_everything_that_shapes_an_answer() -> None:
    base = answer_key("query Q { a }", "Q", {"a": 1, "b": [1, 2]}, ["s1", "s2"])
    # Variables and scopes compare as sets of names, whatever order they came in.
    assert base == answer_key("query Q { a }", "Q", {"b": [1, 2], "a": 1}, ["s2", "s1"])
    others = [
        answer_key("query Q { a  }", "Q", {"a": 1, "b": [1, 2]}, ["s1", "s2"]),
        answer_key("query Q { a }", None, {"a": 1, "b": [1, 2]}, ["s1", "s2"]),
        answer_key("query Q { a }", "Q", {"a": 1, "b": [2, 1]}, ["s1", "s2"]),
        answer_key("query Q { a }", "Q", {"a": 1, "b": [1, 2]}, ["s1"]),
        answer_key("query Q { a }", "Q", {"a": "1", "b": [1, 2]}, ["s1", "s2"]),
    ]
    assert base not in others and len(set(others)) == len(others)
    # Variables JSON cannot carry (a big integer a WebSocket payload may hold) have no key: the
    # extension lets such a query run uncached, and validation judges it.
    with pytest.raises(TypeError):
        answer_key("q", None, {"first": 2**70}, ())
    # Parts are length-prefixed: moving a boundary changes the key.
    assert answer_key("ab", "c", None, ()) != answer_key("a", "bc", None, ())

"""The index's fast read path against its plain one, on SQLite and PostgreSQL: pages read through
the row memo (``memo_contacts``), remembered statements (``memo_statements``), plain SQLite
connections (``plain_sqlite_selects``) and SQLite reads on threads (``sqlite_select_threads``) are
the pages read without them, also after rows change
content under the same id, move, or go."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from gateway.core.filters import DeletedContactFilter
from gateway.core.index import SyncBatch, SyncState
from gateway.core.model import Provider
from gateway.store import Database, DatabaseIndex, ensure_schema

from .test_index import CC, DAY, GR, contact, fill, population, walk


async def test_memo_and_plain_selects_answer_what_the_plain_path_answers(database_url: str) -> None:
    fast_db = Database(database_url, plain_sqlite_selects=True, sqlite_select_threads=2)
    plain_db = Database(database_url, plain_sqlite_selects=False)
    try:
        await ensure_schema(fast_db, migrate=True)
        # Memos smaller than what is read: entries go.
        fast = DatabaseIndex(fast_db, memo_contacts=25, memo_statements=3)
        plain = DatabaseIndex(plain_db)
        rows = population(3, 80)
        await fill(plain, rows)
        queries = [DeletedContactFilter(), DeletedContactFilter(providers=frozenset({CC}))]

        async def same() -> None:
            for query in queries:
                for size in (7, 50):
                    expected = await walk(plain, query, size)
                    assert await walk(fast, query, size) == expected
                    assert await walk(fast, query, size) == expected  # now from the memo
                    middle = expected[len(expected) // 2].order
                    for bounds in ({"before": middle}, {"after": middle}, {}):
                        for backward in (False, True):
                            shape: dict[str, object] = {"backward": backward, **bounds}
                            page = await fast.page(query, limit=size, **shape)  # type: ignore[arg-type]
                            assert page == await plain.page(query, limit=size, **shape)  # type: ignore[arg-type]

        await same()
        # Same ids, new content: a new name and entry, a moved deletion day; one row goes.
        changed = [
            dataclasses.replace(rows[0], name="Renamed", entry={"id": rows[0].contact_id, "v": 2}),
            dataclasses.replace(rows[1], deleted_on=DAY - timedelta(days=40)),
            dataclasses.replace(rows[2], email="other@x.io"),
        ]
        for provider in (CC, GR):
            mine = [r for r in changed if r.provider is provider]
            gone = [rows[3].contact_id] if rows[3].provider is provider else []
            await plain.apply(provider, SyncBatch(deleted=mine, not_deleted=gone))
        await same()
        everything = {(r.provider, r.contact_id): r for r in await walk(fast, DeletedContactFilter(), 50)}
        for row in changed:
            assert everything[(row.provider, row.contact_id)] == row
        assert (rows[3].provider, rows[3].contact_id) not in everything
        # A row added after the memo filled is read like any other.
        await fill(plain, [contact(GR, "late", "late@x.io")])
        await same()
    finally:
        await fast_db.aclose()
        await plain_db.aclose()


class _CountingIndex(DatabaseIndex):
    """Counts its reads of the ``sync_state`` table (the database itself is real)."""

    reads = 0

    async def _read_states(self) -> dict[Provider, SyncState]:
        self.reads += 1
        return await super()._read_states()


async def test_sync_states_are_reread_exactly_when_the_database_changed(database_url: str) -> None:
    checked_db, writer_db, plain_db = Database(database_url), Database(database_url), Database(database_url)
    try:
        await ensure_schema(writer_db, migrate=True)
        checked = _CountingIndex(checked_db, states_check=True)
        plain = DatabaseIndex(plain_db)
        writer = DatabaseIndex(writer_db)  # another connection, as another process or replica is
        moment = datetime(2026, 5, 1, tzinfo=UTC)
        assert await checked.states() == await plain.states() == {}
        for step in range(3):
            await writer.save_state(
                SyncState(CC, backfilled_at=moment, synced_at=moment + timedelta(minutes=step))
            )
            assert await checked.states() == await plain.states()
            await writer.apply(
                GR, SyncBatch(deleted=[contact(GR, f"g{step}", f"g{step}@x.io", campaign_id="c1")])
            )
            assert await checked.states() == await plain.states()
        reads = checked.reads
        for _ in range(5):
            assert await checked.states() == await plain.states()
        if checked_db.is_sqlite:
            assert checked.reads == reads, "nothing changed: the states should not have been read again"
        else:  # PostgreSQL has no such number: read each time
            assert checked.reads == reads + 5
    finally:
        for opened in (checked_db, writer_db, plain_db):
            await opened.aclose()

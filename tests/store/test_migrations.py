"""Migrations are the only way the schema changes: an empty database upgrades to head and then
matches the models exactly, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from gateway.errors import DatabaseNotMigrated
from gateway.store import Database, current_revision, ensure_schema, head_revision, upgrade
from gateway.store.models import Base


async def _differences(database: Database, metadata: sa.MetaData) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.connect() as connection:
        return await connection.run_sync(compare)


async def test_an_empty_database_upgrades_to_head_and_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert await current_revision(database) is None
        assert await upgrade(database) == (None, head_revision())
        assert await current_revision(database) == head_revision()
        assert await _differences(database, Base.metadata) == []
        assert await upgrade(database) == (head_revision(), head_revision())  # a second run is a no-op
    finally:
        await database.aclose()


async def test_the_comparison_would_see_a_model_the_migrations_lack(database: Database) -> None:
    # The check above passes only if compare_metadata really compares: a column added to the models
    # and missing from the migrations must show up.
    drifted = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["api_keys"].append_column(sa.Column("owner", sa.String(50)))
    differences = await _differences(database, drifted)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "owner")]


async def test_a_database_behind_is_refused_with_what_to_do(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(DatabaseNotMigrated) as refused:
            await ensure_schema(database, migrate=False)
        assert "gateway db upgrade" in refused.value.message
        assert "DATABASE_MIGRATE_ON_START=true" in refused.value.message
        assert refused.value.code == "DATABASE_NOT_MIGRATED"
        await ensure_schema(database, migrate=True)
        await ensure_schema(database, migrate=False)  # at head now: accepted
    finally:
        await database.aclose()


async def test_replicas_starting_together_both_end_at_head(database_url: str) -> None:
    replicas = [Database(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(ensure_schema(replica, migrate=True) for replica in replicas))
        for replica in replicas:
            assert await current_revision(replica) == head_revision()
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_a_new_sqlite_file_turns_to_wal_even_while_another_connection_writes(tmp_path: Any) -> None:
    # SQLite refuses the switch to WAL at once ("locked", no busy wait) while another connection
    # holds the write lock: what replicas opening a new file together meet. The gateway retries it.
    import sqlite3
    import threading

    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE other (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # what a plain connection meets
        sqlite3.connect(path, timeout=5).execute("PRAGMA journal_mode=WAL")

    released = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    released.start()
    database = Database(f"sqlite+aiosqlite:///{path}", busy_timeout=30)
    try:
        assert await current_revision(database) is None  # connected, so the switch went through
        async with database.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        assert str(mode).lower() == "wal"
    finally:
        released.join()
        writer.close()
        await database.aclose()

"""Documents registered by automatic persisted queries, in the gateway's database (SQLite and
PostgreSQL): found by hash, registered once even twice over, seen by another replica; migration 0003
goes down and up."""

from __future__ import annotations

from gateway.core.persisted_documents import document_hash
from gateway.store import Database, DatabasePersistedDocuments, current_revision, head_revision

from .migrating import migrate

QUERY = "query Count { deletedContacts(first: 5) { totalCount } }"


async def test_a_registered_document_is_found_by_its_hash(database: Database) -> None:
    store = DatabasePersistedDocuments(database)
    assert await store.get(document_hash(QUERY)) is None
    await store.put(document_hash(QUERY), QUERY)
    await store.put(document_hash(QUERY), QUERY)  # two replicas registering at once: one row, no error
    assert await store.get(document_hash(QUERY)) == QUERY
    assert await store.get(document_hash(QUERY + " ")) is None


async def test_another_replica_finds_what_one_registered(database: Database, replica: Database) -> None:
    await DatabasePersistedDocuments(database).put(document_hash(QUERY), QUERY)
    assert await DatabasePersistedDocuments(replica).get(document_hash(QUERY)) == QUERY


async def test_migration_0003_goes_down_and_up(database: Database) -> None:
    tables = (await migrate(database, "downgrade", "0002")).tables
    assert "persisted_queries" not in tables and "audit_events" in tables
    assert await current_revision(database) == "0002"
    assert "persisted_queries" in (await migrate(database, "upgrade", "head")).tables
    assert await current_revision(database) == head_revision()
    await DatabasePersistedDocuments(database).put(document_hash(QUERY), QUERY)

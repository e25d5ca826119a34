"""The sync's tests use the store's databases: SQLite and the machine's PostgreSQL."""

from tests.store.conftest import database, database_url

__all__ = ["database", "database_url"]

"""Documents registered through automatic persisted queries, in the gateway's database.

Durable and shared by every replica: a client that registered its query through one replica sends
only the hash to the next.  Registration is ``INSERT ... ON CONFLICT DO NOTHING``, so two replicas
registering the same hash at once both succeed and one row remains (the text is the same: the
caller checked it against the hash).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .database import Database
from .models import PersistedQuery

__all__ = ["DatabasePersistedDocuments"]


class DatabasePersistedDocuments:
    """A :class:`~gateway.core.persisted_documents.PersistedDocumentStore` on the gateway's database;
    database failures reach the caller as ``DatabaseError``."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._database = database
        self._clock = clock

    async def get(self, sha256: str) -> str | None:
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                found = await connection.execute(
                    select(PersistedQuery.document).where(PersistedQuery.sha256 == sha256)
                )
                document: str | None = found.scalar_one_or_none()
        return document

    async def put(self, sha256: str, document: str) -> None:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
                statement = dialect.insert(PersistedQuery).values(
                    sha256=sha256, document=document, created_at=self._clock()
                )
                await connection.execute(statement.on_conflict_do_nothing())

    async def aclose(self) -> None:
        """Nothing to do: the database belongs to whoever opened it (the application's lifespan)."""

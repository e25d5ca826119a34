"""How many service keys have ever been revoked: the cheap question that lets verified keys be cached.

A revocation is never undone and a key is never deleted, so the number of revoked keys only grows,
and it grows with every revocation made anywhere: by ``gateway keys revoke``, by another replica, by
another process on the same SQLite file.  A cache of verified keys (:class:`~gateway.store.key_cache.
CachedKeyVerifier`) asks this number on every request and forgets everything when it moved, so a
revoked key is refused by the very next request on every replica, while an unchanged number lets a
request skip the key's own lookup.

The question is asked outside SQLAlchemy, on a connection kept for it alone, because the general
path (a pooled async connection per query) costs far more than the query itself:

- SQLite: the standard library's driver, read-only, answered synchronously (a read in WAL mode
  neither waits for writers nor blocks them, so it does not stall the event loop);
- PostgreSQL: one asyncpg connection with a prepared statement, queries serialised by a lock (an
  asyncpg connection runs one query at a time), reconnected after a failure.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Protocol

import asyncpg

from gateway.errors import DatabaseError

from .database import Database

__all__ = ["PostgresRevocations", "RevocationCounter", "SqliteRevocations", "revocation_counter"]

_COUNT = "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL"


class RevocationCounter(Protocol):
    async def count(self) -> int:
        """Keys revoked so far; raises :class:`~gateway.errors.DatabaseError` when it cannot tell."""
        ...

    async def aclose(self) -> None: ...


class SqliteRevocations:
    def __init__(self, path: str, *, busy_timeout: float) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # as_uri() percent-encodes the path: a '?' or '#' in a directory name stays part of it.
            uri = f"{Path(self._path).absolute().as_uri()}?mode=ro"
            self._connection = sqlite3.connect(
                uri, uri=True, timeout=self._busy_timeout, check_same_thread=False, isolation_level=None
            )
        return self._connection

    async def count(self) -> int:
        try:
            row = self._connect().execute(_COUNT).fetchone()
        except sqlite3.Error as error:
            await self.aclose()
            raise DatabaseError("the gateway's database cannot be read") from error
        return int(row[0])

    async def aclose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresRevocations:
    def __init__(self, dsn: str, *, timeout: float) -> None:
        self._dsn = dsn
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._connection: asyncpg.Connection | None = None
        self._statement: asyncpg.prepared_stmt.PreparedStatement | None = None

    async def count(self) -> int:
        async with self._lock:
            try:
                if self._statement is None:
                    self._connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
                    self._statement = await self._connection.prepare(_COUNT)
                value = await self._statement.fetchval(timeout=self._timeout)
            except Exception as error:  # any driver or socket failure: the count cannot be told now
                await self._close()
                raise DatabaseError("the gateway's database cannot be read") from error
        return int(value)

    async def _close(self) -> None:
        connection, self._connection, self._statement = self._connection, None, None
        if connection is not None:
            connection.terminate()

    async def aclose(self) -> None:
        async with self._lock:
            await self._close()


def revocation_counter(database: Database, *, timeout: float) -> RevocationCounter:
    """The counter for ``database``'s backend; ``timeout`` bounds each wait for an answer."""
    url = database.url
    if database.is_sqlite:
        return SqliteRevocations(str(url.database), busy_timeout=timeout)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresRevocations(dsn, timeout=timeout)

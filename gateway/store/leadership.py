"""One sync leader among the gateway's replicas.

Every replica may run the sync loop, but only the one holding leadership writes to the index; the
others keep asking.  :func:`leadership` picks the mechanism the database offers:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a stable 64-bit key derived
  from the name, taken on a connection of its own that stays open while leading.  If the leader's
  process dies, its connection closes and the server frees the lock: no lease to wait out.
- SQLite (one host): a lease row in ``sync_leases`` with a holder id and an expiry, taken when free or
  expired and renewed by :meth:`Leadership.still_held`; a crashed leader's lease runs out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from .database import Database
from .models import SyncLease

__all__ = ["AdvisoryLockLeadership", "Leadership", "LeaseLeadership", "advisory_key", "leadership"]


class Leadership(Protocol):
    """Whether this process is the one that syncs."""

    async def try_acquire(self) -> bool:
        """Become the leader if nobody is (True also when already leading)."""
        ...

    async def still_held(self) -> bool:
        """Whether this process still leads (renewing what needs renewing); False once lost."""
        ...

    async def release(self) -> None:
        """Stop leading (a no-op when not leading)."""
        ...


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL's advisory locks take a ``bigint``)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLockLeadership:
    """Leadership by a PostgreSQL advisory lock held on a dedicated connection."""

    def __init__(self, database: Database, name: str) -> None:
        self._database = database
        self.key = advisory_key(name)
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._connection is not None:
            return await self.still_held()
        # AUTOCOMMIT: the connection holds the lock, never an open transaction.
        connection = await self._database.connect().start()
        try:
            acquired = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except (SQLAlchemyError, OSError):
            await _discard(connection)
            raise
        if not acquired:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        # The lock's two 32-bit halves, as pg_locks shows a bigint advisory key.
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        try:
            held = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objsubid = 1"
                    " AND classid::text::bigint = :high AND objid::text::bigint = :low"
                ),
                {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF},
            )
        except (SQLAlchemyError, OSError):
            held = 0  # the session is gone, and its lock with it
        if not held:
            self._connection = None
            await _discard(connection)
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except (SQLAlchemyError, OSError):
            await _discard(connection)  # closing the session frees the lock anyway
            return
        await connection.close()

    async def aclose(self) -> None:
        await self.release()


async def _discard(connection: AsyncConnection) -> None:
    """Close ``connection`` without handing it back to the pool: a session that may hold the lock
    must end, not be reused."""
    try:
        await connection.invalidate()
        await connection.close()
    except (SQLAlchemyError, OSError):
        pass


class LeaseLeadership:
    """Leadership by a lease row in ``sync_leases`` (SQLite)."""

    def __init__(
        self,
        database: Database,
        name: str,
        holder: str,
        lease_seconds: float,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self.name = name
        self.holder = holder
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock

    async def try_acquire(self) -> bool:
        now = self._clock()
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                statement = sqlite.insert(SyncLease).values(
                    name=self.name, holder=self.holder, expires_at=now + self._lease
                )
                # Take it over only when it is ours already or has run out.
                statement = statement.on_conflict_do_update(
                    index_elements=[SyncLease.name],
                    set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
                    where=or_(SyncLease.holder == self.holder, SyncLease.expires_at <= now),
                )
                await connection.execute(statement)
                holder = await connection.scalar(select(SyncLease.holder).where(SyncLease.name == self.name))
        return holder == self.holder

    async def still_held(self) -> bool:
        """Renew the lease if this holder still has it (expired or not: nobody took it over)."""
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                result = await connection.execute(
                    update(SyncLease)
                    .where(SyncLease.name == self.name, SyncLease.holder == self.holder)
                    .values(expires_at=self._clock() + self._lease)
                )
        return bool(result.rowcount)

    async def release(self) -> None:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(
                    delete(SyncLease).where(SyncLease.name == self.name, SyncLease.holder == self.holder)
                )

    async def aclose(self) -> None:
        await self.release()


def leadership(
    database: Database,
    name: str,
    holder: str,
    lease_seconds: float,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AdvisoryLockLeadership | LeaseLeadership:
    """The leadership ``database`` supports: an advisory lock on PostgreSQL (``holder`` and
    ``lease_seconds`` unused), a lease of ``lease_seconds`` held as ``holder`` on SQLite."""
    if database.is_sqlite:
        return LeaseLeadership(database, name, holder, lease_seconds, clock=clock)
    return AdvisoryLockLeadership(database, name)

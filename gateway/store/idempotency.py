"""Idempotency keys in the gateway's database: durable across restarts, shared by every replica.

The same contract as ``gateway.core.idempotency``'s memory and Redis stores (claim, complete,
release), with two differences that the database makes possible:

- Records belong to a principal (:meth:`DatabaseIdempotencyStore.for_principal`): the table's key is
  (principal, key), so one caller's key never finds, replays or blocks another's.
- A claim is a lease.  A request that is still running holds its key for ``claim_seconds`` only, not
  for the whole TTL: if the process dies mid-request the claim would otherwise survive the restart
  and answer ``IDEMPOTENCY_IN_PROGRESS`` for a day.  A finished result is kept ``ttl`` seconds.

Claiming is one transaction: drop this key's record if it has expired, then ``INSERT ... ON CONFLICT
DO NOTHING``.  The unique key decides between concurrent claims on any number of replicas; the loser
reads the winner's record.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from gateway.core.principals import Principal

from .database import Database
from .models import IdempotencyRecord

__all__ = ["ANONYMOUS", "DatabaseIdempotencyStore"]

ANONYMOUS = "anonymous"
"""The principal of records written by requests that carry no credential."""

CLAIMED = "claimed"
COMPLETED = "completed"
_CLAIM_ATTEMPTS = 3


class DatabaseIdempotencyStore:
    """An :class:`~gateway.core.idempotency.IdempotencyStore` on the gateway's database.

    The store built at start-up speaks for :data:`ANONYMOUS`; :meth:`for_principal` gives the view of
    one principal over the same database.  Views share the caller's :class:`Database` and never close it.
    """

    def __init__(
        self,
        database: Database,
        *,
        ttl: float = 86_400.0,
        claim_seconds: float = 900.0,
        principal: str = ANONYMOUS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ttl = ttl
        self._database = database
        self._claim_seconds = claim_seconds
        self._principal = principal
        self._clock = clock

    def for_principal(self, principal: Principal) -> DatabaseIdempotencyStore:
        return DatabaseIdempotencyStore(
            self._database,
            ttl=self.ttl,
            claim_seconds=self._claim_seconds,
            principal=principal.scope_key,
            clock=self._clock,
        )

    def _this(self, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return IdempotencyRecord.principal == self._principal, IdempotencyRecord.key == key

    async def claim(self, key: str, fingerprint: str) -> bytes | None:
        for _ in range(_CLAIM_ATTEMPTS):
            now = self._clock()
            async with self._guarded() as connection:
                # A write first: on SQLite it takes the lock before anything is read (see Database.begin).
                await connection.execute(
                    delete(IdempotencyRecord).where(*self._this(key), IdempotencyRecord.expires_at <= now)
                )
                if await self._insert_claim(connection, key, fingerprint, now):
                    return None
                record = (
                    await connection.execute(
                        select(
                            IdempotencyRecord.fingerprint, IdempotencyRecord.state, IdempotencyRecord.result
                        ).where(*self._this(key))
                    )
                ).one_or_none()
            if record is None:  # released between our insert and our read: try to claim again
                continue
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this idempotencyKey was used with a different input")
            if record.state != COMPLETED or record.result is None:
                raise IdempotencyInProgress(
                    "a request with this idempotencyKey is still running; retry shortly"
                )
            result: str = record.result
            return result.encode()
        raise IdempotencyInProgress("this idempotencyKey is being claimed and released repeatedly; retry")

    async def _insert_claim(
        self, connection: AsyncConnection, key: str, fingerprint: str, now: datetime
    ) -> bool:
        values = {
            "principal": self._principal,
            "key": key,
            "fingerprint": fingerprint,
            "state": CLAIMED,
            "result": None,
            "created_at": now,
            "expires_at": now + timedelta(seconds=self._claim_seconds),
        }
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(IdempotencyRecord).values(values).on_conflict_do_nothing()
        inserted = await connection.execute(statement)
        return inserted.rowcount == 1

    async def complete(self, key: str, fingerprint: str, result: bytes) -> None:
        now = self._clock()
        expires_at = now + timedelta(seconds=self.ttl)
        text = result.decode()
        async with self._guarded() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(IdempotencyRecord).values(
                principal=self._principal,
                key=key,
                fingerprint=fingerprint,
                state=COMPLETED,
                result=text,
                created_at=now,
                expires_at=expires_at,
            )
            # The claim is normally still there; should it have lapsed meanwhile, the result is
            # recorded all the same, so that retries replay it instead of acting again.
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[IdempotencyRecord.principal, IdempotencyRecord.key],
                    set_={
                        "fingerprint": fingerprint,
                        "state": COMPLETED,
                        "result": text,
                        "expires_at": expires_at,
                    },
                )
            )

    async def release(self, key: str) -> None:
        async with self._guarded() as connection:
            # Only a claim is released: a recorded result is never thrown away by a failed duplicate.
            await connection.execute(
                delete(IdempotencyRecord).where(*self._this(key), IdempotencyRecord.state == CLAIMED)
            )

    async def purge_expired(self) -> int:
        """Delete every expired record, of every principal; how many went."""
        async with self._database.begin() as connection:
            removed = await connection.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= self._clock())
            )
        return int(removed.rowcount)

    @contextlib.asynccontextmanager
    async def _guarded(self) -> AsyncIterator[AsyncConnection]:
        """A transaction whose database failures reach the caller as ``DatabaseError``."""
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                yield connection

    async def aclose(self) -> None:
        """Nothing to do: the database belongs to whoever opened it (the application's lifespan)."""

"""Sync leadership between two engines on one database, on SQLite (a lease) and PostgreSQL (an
advisory lock): only one leads; a release hands over; so does a leader that is lost (its session
ended on PostgreSQL, its lease run out on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from gateway.store import Database, Leadership, leadership
from gateway.store.leadership import advisory_key

LEASE = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def pair(database: Database, replica: Database, clock: Clock) -> tuple[Leadership, Leadership]:
    return (
        leadership(database, "sync", "replica-a", LEASE, clock=clock),
        leadership(replica, "sync", "replica-b", LEASE, clock=clock),
    )


async def test_only_one_leads_and_a_release_hands_over(database: Database, replica: Database) -> None:
    a, b = pair(database, replica, Clock())
    assert await a.try_acquire()
    assert await a.try_acquire()  # already leading
    assert not await b.try_acquire()
    assert await a.still_held() and not await b.still_held()
    await a.release()
    assert not await a.still_held()
    assert await b.try_acquire()
    assert not await a.try_acquire()
    await b.release()
    await b.release()  # a second release is a no-op
    other = leadership(database, "another", "replica-a", LEASE)
    assert await other.try_acquire()  # names are independent
    await other.release()


async def test_a_lost_leader_hands_over(database: Database, replica: Database) -> None:
    clock = Clock()
    a, b = pair(database, replica, clock)
    assert await a.try_acquire()
    if database.is_sqlite:
        # Renewal keeps the lease: well past its first expiry, a still leads.
        for _ in range(3):
            clock.advance(LEASE * 0.6)
            assert await a.still_held()
            assert not await b.try_acquire()
        clock.advance(LEASE + 1)  # the leader stopped renewing (crashed): its lease runs out
    else:
        # The leader's session ends (a crashed process's connection closes): the server frees its lock.
        key = advisory_key("sync") & 0xFFFFFFFFFFFFFFFF
        async with replica.connect() as connection:
            pids = (
                await connection.execute(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND classid::text::bigint = :high AND objid::text::bigint = :low"
                    ),
                    {"high": key >> 32, "low": key & 0xFFFFFFFF},
                )
            ).scalars()
            for pid in list(pids):
                # Waits until the session has ended (its lock freed), not only until it was signalled.
                await connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    assert await b.try_acquire()
    assert not await a.still_held()
    assert not await a.try_acquire()
    await b.release()
    assert await a.try_acquire()
    await a.release()

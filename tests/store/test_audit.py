"""The audit trail in the database, on SQLite and PostgreSQL: append in one statement, one visible event
per contact (UNKNOWN while an intent has no outcome), filters, keyset pages, export, retention, and
migration 0002 down and up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event

from gateway.bootstrap import open_database
from gateway.config import Settings
from gateway.core.actions import ContactActions, DeleteRequest
from gateway.core.audit import (
    AuditCursor,
    AuditEvent,
    AuditFilter,
    AuditPhase,
    AuditStatus,
    MutationContext,
)
from gateway.core.idempotency import MemoryIdempotencyStore
from gateway.core.input_limits import InputLimits
from gateway.core.model import Provider
from gateway.core.ports import Target
from gateway.core.principals import Caller, Principal, PrincipalKind
from gateway.core.shared_listings import SharedListings
from gateway.errors import DatabaseError, InvalidCursor
from gateway.store import Database, DatabaseAuditTrail, current_revision, head_revision

from ..schema.fakes import FakePort
from .migrating import migrate

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ALICE = Principal(PrincipalKind.KEY, "k-alice", "alice", frozenset())
BOB = Principal(PrincipalKind.TOKEN, "https://issuer.example bob", "bob", frozenset())


def _event(
    n: int,
    *,
    at: datetime,
    principal: Principal = ALICE,
    provider: Provider = Provider.GETRESPONSE,
    operation: str = "deleteContacts",
    phase: AuditPhase = AuditPhase.OUTCOME,
    status: AuditStatus = AuditStatus.DONE,
    action_id: str | None = None,
) -> AuditEvent:
    context = MutationContext(Caller(principal, f"req-{n}", f"corr-{n}"), operation, f"key-{n}", False)
    return context.event(
        at=at,
        phase=phase,
        status=status,
        item_index=n,
        provider=provider,
        contact_id=f"c{n}",
        email=f"Person{n}@Example.com",
        code=None if status is AuditStatus.DONE else "SOME_CODE",
        message="a message",
        action_id=action_id,
        override_reason="a reason" if n % 2 else None,
    )


@pytest.fixture
def trail(database: Database) -> DatabaseAuditTrail:
    return DatabaseAuditTrail(database, export_batch=3)


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the database is sent while the test runs."""
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    yield sent
    event.remove(database.engine.sync_engine, "before_cursor_execute", note)


async def test_a_phase_is_one_insert_and_reads_back_whole(
    trail: DatabaseAuditTrail, statements: list[str]
) -> None:
    events = [_event(n, at=T0) for n in range(7)]
    await trail.append(events)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    page = await trail.page(AuditFilter(), first=10, after=None)
    assert sorted(page.events, key=lambda e: e.id) == sorted(events, key=lambda e: e.id)
    assert all(e.at == T0 and e.at.tzinfo is not None for e in page.events)


async def test_an_intent_shows_unknown_until_its_outcome_replaces_it(trail: DatabaseAuditTrail) -> None:
    intent = _event(1, at=T0, phase=AuditPhase.INTENT, status=AuditStatus.UNKNOWN)
    other = _event(2, at=T0, phase=AuditPhase.INTENT, status=AuditStatus.UNKNOWN)
    await trail.append([intent, other])
    page = await trail.page(AuditFilter(), first=10, after=None)
    assert {(e.contact_id, e.status) for e in page.events} == {
        ("c1", AuditStatus.UNKNOWN),
        ("c2", AuditStatus.UNKNOWN),
    }
    outcome = _event(1, at=T0 + timedelta(seconds=1), action_id=intent.action_id, status=AuditStatus.FAILED)
    await trail.append([outcome])
    page = await trail.page(AuditFilter(), first=10, after=None)
    assert [(e.contact_id, e.status, e.phase) for e in page.events] == [
        ("c1", AuditStatus.FAILED, AuditPhase.OUTCOME),
        ("c2", AuditStatus.UNKNOWN, AuditPhase.INTENT),
    ]


async def test_every_filter_narrows_the_events(trail: DatabaseAuditTrail) -> None:
    await trail.append(
        [
            _event(1, at=T0),
            _event(2, at=T0 + timedelta(hours=1), principal=BOB),
            _event(3, at=T0 + timedelta(hours=2), provider=Provider.CONSTANT_CONTACT),
            _event(4, at=T0 + timedelta(hours=3), operation="restoreContacts"),
        ]
    )

    async def contacts(filter: AuditFilter) -> list[str | None]:
        return [e.contact_id for e in (await trail.page(filter, first=10, after=None)).events]

    assert await contacts(AuditFilter()) == ["c4", "c3", "c2", "c1"]  # newest first
    assert await contacts(AuditFilter(principal_id=BOB.id)) == ["c2"]
    assert await contacts(AuditFilter(provider=Provider.CONSTANT_CONTACT)) == ["c3"]
    assert await contacts(AuditFilter(contact_id="c1")) == ["c1"]
    assert await contacts(AuditFilter(email="person3@EXAMPLE.COM")) == ["c3"]  # any case, whole address
    assert await contacts(AuditFilter(email="person3@example")) == []
    assert await contacts(AuditFilter(operation="restoreContacts")) == ["c4"]
    window = AuditFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert await contacts(window) == ["c3", "c2"]  # from inclusive, to exclusive
    assert await contacts(AuditFilter(principal_id=ALICE.id, provider=Provider.GETRESPONSE)) == ["c4", "c1"]


async def test_keyset_pages_cover_every_event_once_even_with_equal_times(trail: DatabaseAuditTrail) -> None:
    events = [_event(n, at=T0 + timedelta(seconds=n // 3)) for n in range(10)]  # three share each second
    await trail.append(events)
    seen: list[str] = []
    after: AuditCursor | None = None
    while True:
        page = await trail.page(AuditFilter(), first=4, after=after)
        seen += [e.id for e in page.events]
        if not page.has_next_page:
            break
        after = AuditCursor.decode(AuditCursor.after(page.events[-1]).encode())  # through the opaque form
    assert sorted(seen) == sorted(e.id for e in events) and len(seen) == 10
    assert seen == [e.id for e in sorted(events, key=AuditCursor.after, reverse=True)]
    # an event appended meanwhile (newer) does not shift a page already being walked
    later = await trail.page(AuditFilter(), first=4, after=AuditCursor(T0 + timedelta(seconds=2), "~"))
    await trail.append([_event(99, at=T0 + timedelta(hours=1))])
    again = await trail.page(AuditFilter(), first=4, after=AuditCursor(T0 + timedelta(seconds=2), "~"))
    assert again == later


async def test_export_streams_oldest_first_in_batches(trail: DatabaseAuditTrail) -> None:
    events = [_event(n, at=T0 + timedelta(minutes=n)) for n in range(8)]
    intent = _event(8, at=T0 + timedelta(minutes=8), phase=AuditPhase.INTENT, status=AuditStatus.UNKNOWN)
    await trail.append([*events, intent])
    exported = [e async for e in trail.export(T0 + timedelta(minutes=1), T0 + timedelta(minutes=7))]
    assert [e.contact_id for e in exported] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    everything = [e async for e in trail.export(T0, None)]
    assert [e.contact_id for e in everything][-1] == "c8" and everything[-1].status is AuditStatus.UNKNOWN
    assert len(everything) == 9


async def test_retention_prunes_only_the_old_events(trail: DatabaseAuditTrail) -> None:
    old = _event(1, at=T0 - timedelta(days=400))
    old_intent = _event(2, at=T0 - timedelta(days=400), phase=AuditPhase.INTENT, status=AuditStatus.UNKNOWN)
    recent = _event(3, at=T0)
    await trail.append([old, old_intent, recent])
    assert await trail.prune(T0 - timedelta(days=365)) == 2
    page = await trail.page(AuditFilter(), first=10, after=None)
    assert [e.contact_id for e in page.events] == ["c3"]
    assert await trail.prune(T0 - timedelta(days=365)) == 0


async def test_events_written_on_one_replica_are_read_on_another(
    database: Database, replica: Database
) -> None:
    await DatabaseAuditTrail(database).append([_event(1, at=T0)])
    page = await DatabaseAuditTrail(replica).page(AuditFilter(contact_id="c1"), first=5, after=None)
    assert [e.request_id for e in page.events] == ["req-1"]


async def test_a_cursor_that_is_not_ours_is_invalid_cursor() -> None:
    for text in ("", "abc", AuditCursor(T0, "x").encode()[:-3], "eyJ4IjogMX0"):
        with pytest.raises(InvalidCursor) as refused:
            AuditCursor.decode(text)
        assert refused.value.code == "INVALID_CURSOR"


async def test_migration_0002_goes_down_and_up(database: Database) -> None:
    tables = (await migrate(database, "downgrade", "0001")).tables
    assert "audit_events" not in tables and "idempotency_records" in tables
    assert await current_revision(database) == "0001"
    assert "audit_events" in (await migrate(database, "upgrade", "head")).tables
    assert await current_revision(database) == head_revision()
    await DatabaseAuditTrail(database).append([_event(1, at=T0)])


async def test_no_upstream_write_when_the_database_cannot_take_the_intent() -> None:
    unreachable = Database("postgresql+asyncpg://gateway:s3cret-pw@127.0.0.1:1/gateway", pool_timeout=2)
    port = FakePort(Provider.GETRESPONSE, [])
    actions = ContactActions(
        {Provider.GETRESPONSE: port},
        SharedListings(),
        MemoryIdempotencyStore(),
        InputLimits(),
        DatabaseAuditTrail(unreachable),
    )
    try:
        with pytest.raises(DatabaseError) as refused:
            request = DeleteRequest((Target(0, Provider.GETRESPONSE, "ge0005"),))
            await actions.delete(request, caller=Caller(ALICE, "req-1"))
        assert refused.value.code == "DATABASE_ERROR" and "s3cret-pw" not in refused.value.message
        assert "delete" not in port.calls and port.deleted == []
    finally:
        await unreachable.aclose()


async def test_the_gateway_prunes_past_the_retention_when_it_starts(
    database: Database, database_url: str
) -> None:
    old, recent = _event(1, at=datetime.now(UTC) - timedelta(days=40)), _event(2, at=datetime.now(UTC))
    await DatabaseAuditTrail(database).append([old, recent])
    settings = Settings(database_url=SecretStr(database_url), audit_retention_days=30)
    opened = await open_database(settings)
    try:
        page = await DatabaseAuditTrail(opened).page(AuditFilter(), first=10, after=None)
        assert [e.contact_id for e in page.events] == ["c2"]
    finally:
        await opened.aclose()

"""The audit trail in the gateway's database (``audit_events``): append-only, read newest first.

Rows are only ever inserted, a whole phase of a mutation in one statement, and deleted by retention
(:meth:`DatabaseAuditTrail.prune`).  A reader sees one event per contact: every outcome row, and every
intent row that no outcome row shares an ``action_id`` with (an ``UNKNOWN`` outcome).  Since a
contact's intent is never later than its outcome, retention never leaves an outcome's intent behind
to show up as ``UNKNOWN``.

Pages are keyset pages over (time, id), newest first, so a page costs the same however deep it is and
events appended meanwhile never shift it; the export walks the same key oldest first, in batches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, delete, exists, insert, or_, select
from sqlalchemy.orm import aliased

from gateway.core.audit import AuditCursor, AuditEvent, AuditFilter, AuditPage, AuditPhase, AuditStatus
from gateway.core.model import Provider
from gateway.core.principals import PrincipalKind

from .database import Database
from .models import AuditRecord

__all__ = ["DatabaseAuditTrail"]


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action_id": event.action_id,
        "phase": event.phase.value,
        "at": event.at,
        "principal_kind": event.principal_kind.value,
        "principal_id": event.principal_id,
        "principal_name": event.principal_name,
        "operation": event.operation,
        "provider": event.provider.value if event.provider is not None else None,
        "item_index": event.item_index,
        "contact_id": event.contact_id,
        "email": event.email,
        "email_key": event.email.lower() if event.email is not None else None,
        "status": event.status.value,
        "code": event.code,
        "message": event.message,
        "override_reason": event.override_reason,
        "request_id": event.request_id,
        "correlation_id": event.correlation_id,
        "idempotency_key": event.idempotency_key,
        "dry_run": event.dry_run,
        "replay": event.replay,
    }


def _event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        action_id=row.action_id,
        phase=AuditPhase(row.phase),
        at=row.at,
        principal_kind=PrincipalKind(row.principal_kind),
        principal_id=row.principal_id,
        principal_name=row.principal_name,
        operation=row.operation,
        provider=Provider(row.provider) if row.provider is not None else None,
        item_index=row.item_index,
        contact_id=row.contact_id,
        email=row.email,
        status=AuditStatus(row.status),
        code=row.code,
        message=row.message,
        override_reason=row.override_reason,
        request_id=row.request_id,
        correlation_id=row.correlation_id,
        idempotency_key=row.idempotency_key,
        dry_run=row.dry_run,
        replay=row.replay,
    )


def _conditions(filter: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filter.principal_id is not None:
        conditions.append(AuditRecord.principal_id == filter.principal_id)
    if filter.provider is not None:
        conditions.append(AuditRecord.provider == filter.provider.value)
    if filter.contact_id is not None:
        conditions.append(AuditRecord.contact_id == filter.contact_id)
    if filter.email is not None:
        conditions.append(AuditRecord.email_key == filter.email.lower())
    if filter.operation is not None:
        conditions.append(AuditRecord.operation == filter.operation)
    if filter.since is not None:
        conditions.append(AuditRecord.at >= filter.since)
    if filter.until is not None:
        conditions.append(AuditRecord.at < filter.until)
    return conditions


def _visible(filter: AuditFilter) -> Select[Any]:
    """The events a reader sees (outcomes, and intents without one) that match ``filter``."""
    outcome = aliased(AuditRecord)
    concluded = exists().where(
        outcome.action_id == AuditRecord.action_id, outcome.phase == AuditPhase.OUTCOME.value
    )
    shown = or_(AuditRecord.phase == AuditPhase.OUTCOME.value, ~concluded)
    return select(AuditRecord.__table__).where(shown, *_conditions(filter))


class DatabaseAuditTrail:
    """A :class:`~gateway.core.store_ports.AuditTrail` on the gateway's database.

    ``export_batch`` rows are read per query of :meth:`export`.  The trail shares its caller's
    :class:`Database` and never closes it.
    """

    def __init__(self, database: Database, *, export_batch: int = 500) -> None:
        self._database = database
        self._export_batch = export_batch

    async def append(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                # One statement for the whole phase (SQLAlchemy sends the rows as one multi-row INSERT).
                await connection.execute(insert(AuditRecord), [_row(e) for e in events])

    async def page(self, filter: AuditFilter, *, first: int, after: AuditCursor | None) -> AuditPage:
        statement = _visible(filter)
        if after is not None:
            statement = statement.where(
                or_(AuditRecord.at < after.at, and_(AuditRecord.at == after.at, AuditRecord.id < after.id))
            )
        statement = statement.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(first + 1)
        rows = await self._read(statement)
        return AuditPage([_event(r) for r in rows[:first]], len(rows) > first)

    async def export(self, since: datetime, until: datetime | None) -> AsyncIterator[AuditEvent]:
        base = _visible(AuditFilter(since=since, until=until))
        last: AuditCursor | None = None
        while True:
            statement = base
            if last is not None:
                statement = statement.where(
                    or_(AuditRecord.at > last.at, and_(AuditRecord.at == last.at, AuditRecord.id > last.id))
                )
            statement = statement.order_by(AuditRecord.at, AuditRecord.id).limit(self._export_batch)
            rows = await self._read(statement)
            for row in rows:
                yield _event(row)
            if len(rows) < self._export_batch:
                return
            last = AuditCursor(rows[-1].at, rows[-1].id)

    async def prune(self, before: datetime) -> int:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                removed = await connection.execute(delete(AuditRecord).where(AuditRecord.at < before))
        return int(removed.rowcount)

    async def _read(self, statement: Select[Any]) -> list[Row[Any]]:
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                return list((await connection.execute(statement)).all())

    async def aclose(self) -> None:
        """Nothing to do: the database belongs to whoever opened it (the application's lifespan)."""

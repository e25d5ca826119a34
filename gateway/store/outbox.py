"""The deletion feed's outbox (``gateway.core.feed``): events in position order, in the gateway's database.

Events of index changes are written by the index's own transaction (:func:`write_events`, called by
``store.index``), so a change and its event commit together or not at all.  Writers take a lock first
(PostgreSQL: a transaction-level advisory lock; SQLite has one writer at a time anyway), so positions
are committed in increasing order: a reader that resumes after position *p* never misses an event
committed later with a smaller position.

A ``DELETED`` event is not written twice for one deletion: when the contact's last event is already a
``DELETED`` within a day of this one (a GetResponse callback the sync now confirms, or a delta's
overlap reading the same change again), the new one is dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.feed import ContactEvent, EventFilter, EventKind, EventSource
from gateway.core.model import Provider

from .database import Database
from .leadership import advisory_key
from .models import ContactEventRow

__all__ = ["DatabaseEventLog", "write_events"]

_E = ContactEventRow
_LOCK_KEY = advisory_key("contact-events")
_SAME_DELETION = timedelta(days=1)
_CHUNK = 500


async def _last_events(
    connection: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, datetime]]:
    """The newest event's (kind, occurred_at) of each (provider, contact id)."""
    newest: dict[tuple[str, str], tuple[str, datetime]] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        latest = (
            select(_E.provider, _E.contact_id, func.max(_E.position).label("position"))
            .where(tuple_(_E.provider, _E.contact_id).in_(chunk))
            .group_by(_E.provider, _E.contact_id)
            .subquery()
        )
        rows = await connection.execute(
            select(_E.provider, _E.contact_id, _E.kind, _E.occurred_at).join(
                latest, _E.position == latest.c.position
            )
        )
        for row in rows:
            occurred = row.occurred_at
            if occurred.tzinfo is None:
                occurred = occurred.replace(tzinfo=UTC)
            newest[(row.provider, row.contact_id)] = (row.kind, occurred)
    return newest


def _is_repeat(event: ContactEvent, last: tuple[str, datetime] | None) -> bool:
    if last is None:
        return False
    kind, occurred = last
    if event.kind is EventKind.RESTORED:
        return kind == EventKind.RESTORED.value
    return kind == EventKind.DELETED.value and abs(event.occurred_at - occurred) < _SAME_DELETION


async def write_events(connection: AsyncConnection, events: Sequence[ContactEvent]) -> list[ContactEvent]:
    """Write ``events`` in the caller's transaction (repeats dropped); the events as written."""
    if not events:
        return []
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = await _last_events(connection, [(e.provider.value, e.contact_id) for e in events])
    now = datetime.now(UTC)
    written: list[ContactEvent] = []
    for event in events:
        key = (event.provider.value, event.contact_id)
        if _is_repeat(event, last.get(key)):
            continue
        last[key] = (event.kind.value, event.occurred_at)
        event_id = uuid.uuid4().hex
        result = await connection.execute(
            insert(_E)
            .values(
                event_id=event_id,
                kind=event.kind.value,
                provider=event.provider.value,
                contact_id=event.contact_id,
                email=event.email,
                campaign_id=event.campaign_id,
                reason=event.reason,
                source=event.source.value,
                occurred_at=event.occurred_at,
                recorded_at=now,
                entry=orjson.dumps(event.entry).decode() if event.entry is not None else None,
            )
            .returning(_E.position)
        )
        position = int(result.scalar_one())
        written.append(replace(event, position=position, event_id=event_id, recorded_at=now))
    return written


def _event(row: Any) -> ContactEvent:
    def aware(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    return ContactEvent(
        kind=EventKind(row.kind),
        provider=Provider(row.provider),
        contact_id=row.contact_id,
        email=row.email,
        occurred_at=aware(row.occurred_at),
        source=EventSource(row.source),
        entry=orjson.loads(row.entry) if row.entry is not None else None,
        reason=row.reason,
        campaign_id=row.campaign_id,
        position=int(row.position),
        event_id=row.event_id,
        recorded_at=aware(row.recorded_at),
    )


class DatabaseEventLog:
    """``ContactEventLog`` over the gateway's database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def after(
        self, position: int, *, limit: int, filter: EventFilter | None = None
    ) -> list[ContactEvent]:
        statement = select(_E).where(_E.position > position).order_by(_E.position).limit(limit)
        if filter is not None and filter.providers:
            statement = statement.where(_E.provider.in_(sorted(p.value for p in filter.providers)))
        if filter is not None and filter.kinds:
            statement = statement.where(_E.kind.in_(sorted(k.value for k in filter.kinds)))
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                rows = (await connection.execute(statement)).all()
        return [_event(row) for row in rows]

    async def last_position(self) -> int:
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                found = await connection.scalar(select(func.max(_E.position)))
        return int(found or 0)

    async def first_position(self) -> int:
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                found = await connection.scalar(select(func.min(_E.position)))
        return int(found or 0)

    async def append(self, events: Sequence[ContactEvent]) -> list[ContactEvent]:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                return await write_events(connection, events)

    async def prune(self, before: datetime) -> int:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                result = await connection.execute(delete(_E).where(_E.recorded_at < before))
        return int(result.rowcount)

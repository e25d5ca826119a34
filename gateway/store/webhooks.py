"""Webhooks and their deliveries in the gateway's database (``gateway.webhooks.WebhookStore``).

Deliveries are unique per (webhook, position): queueing a position again (a replay) resets the
existing delivery to pending with a new retry window instead of adding a second one.  Moving the
cursor is conditional on its expected value, so a replay that rewinds it while the dispatcher
queues wins, and the dispatcher's stale batch is not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.feed import EventFilter, EventKind
from gateway.core.model import Provider
from gateway.webhooks.model import (
    DeadLetter,
    DeliveryCounts,
    DeliveryOutcome,
    DeliveryState,
    DueDelivery,
    NewDelivery,
    Webhook,
    WebhookSummary,
)

from .database import Database
from .models import UTCDateTime, WebhookDeliveryRow, WebhookRow

__all__ = ["DatabaseWebhookStore"]

_W = WebhookRow
_D = WebhookDeliveryRow
_CHUNK = 500


def _joined(values: Sequence[str]) -> str:
    return ",".join(sorted(values))


def _split(value: str) -> list[str]:
    return [part for part in value.split(",") if part]


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        owner=row.owner,
        owner_name=row.owner_name,
        url=row.url,
        secret=row.secret,
        filter=EventFilter(
            providers=frozenset(Provider(p) for p in _split(row.providers)),
            kinds=frozenset(EventKind(k) for k in _split(row.kinds)),
        ),
        created_at=row.created_at,
        cursor=int(row.cursor),
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


class DatabaseWebhookStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, webhook: Webhook) -> None:
        row = {
            "id": webhook.id,
            "owner": webhook.owner,
            "owner_name": webhook.owner_name,
            "url": webhook.url,
            "secret": webhook.secret,
            "providers": _joined([p.value for p in webhook.filter.providers]),
            "kinds": _joined([k.value for k in webhook.filter.kinds]),
            "created_at": webhook.created_at,
            "cursor": webhook.cursor,
            "disabled_at": webhook.disabled_at,
            "disabled_reason": webhook.disabled_reason,
        }
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(insert(_W).values(**row))

    async def get(self, webhook_id: str) -> Webhook | None:
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                row = (await connection.execute(select(_W).where(_W.id == webhook_id))).first()
        return _webhook(row) if row is not None else None

    async def enabled(self) -> list[Webhook]:
        statement = select(_W).where(_W.disabled_at.is_(None)).order_by(_W.created_at, _W.id)
        # The dispatcher's reads go to the primary (``begin``), never to a lagging reader.
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                rows = (await connection.execute(statement)).all()
        return [_webhook(row) for row in rows]

    async def summaries(self, owner: str | None, *, dead_letters: int) -> list[WebhookSummary]:
        statement = select(_W).order_by(_W.created_at, _W.id)
        if owner is not None:
            statement = statement.where(_W.owner == owner)
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                webhooks = [_webhook(row) for row in (await connection.execute(statement)).all()]
                ids = [w.id for w in webhooks]
                counts: dict[tuple[str, str], int] = {}
                letters: dict[str, list[DeadLetter]] = {i: [] for i in ids}
                for start in range(0, len(ids), _CHUNK):
                    chunk = ids[start : start + _CHUNK]
                    grouped = await connection.execute(
                        select(_D.webhook_id, _D.state, func.count())
                        .where(_D.webhook_id.in_(chunk))
                        .group_by(_D.webhook_id, _D.state)
                    )
                    counts.update({(r[0], r[1]): int(r[2]) for r in grouped})
                    if dead_letters > 0:
                        for webhook_id in chunk:
                            if not counts.get((webhook_id, DeliveryState.DEAD.value)):
                                continue
                            rows = await connection.execute(
                                select(_D)
                                .where(_D.webhook_id == webhook_id, _D.state == DeliveryState.DEAD.value)
                                .order_by(_D.position.desc())
                                .limit(dead_letters)
                            )
                            letters[webhook_id] = [
                                DeadLetter(
                                    event_id=r.event_id,
                                    position=int(r.position),
                                    attempts=int(r.attempts),
                                    last_status=r.last_status,
                                    last_error=r.last_error,
                                    first_attempt_at=r.first_attempt_at,
                                )
                                for r in rows
                            ]
        return [
            WebhookSummary(
                webhook=w,
                counts=DeliveryCounts(
                    pending=counts.get((w.id, DeliveryState.PENDING.value), 0),
                    delivered=counts.get((w.id, DeliveryState.DELIVERED.value), 0),
                    dead=counts.get((w.id, DeliveryState.DEAD.value), 0),
                ),
                dead_letters=letters[w.id],
            )
            for w in webhooks
        ]

    async def remove(self, webhook_id: str) -> bool:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(delete(_D).where(_D.webhook_id == webhook_id))
                result = await connection.execute(delete(_W).where(_W.id == webhook_id))
        return bool(result.rowcount)

    async def _existing(self, connection: AsyncConnection, webhook_id: str, positions: list[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(positions), _CHUNK):
            chunk = positions[start : start + _CHUNK]
            rows = await connection.execute(
                select(_D.position).where(_D.webhook_id == webhook_id, _D.position.in_(chunk))
            )
            found.update(int(r[0]) for r in rows)
        return found

    async def queue(
        self,
        webhook_id: str,
        *,
        expected_cursor: int,
        cursor: int,
        deliveries: Sequence[NewDelivery],
        now: datetime,
    ) -> bool:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                moved = await connection.execute(
                    update(_W)
                    .where(_W.id == webhook_id, _W.cursor == expected_cursor, _W.disabled_at.is_(None))
                    .values(cursor=cursor)
                )
                if not moved.rowcount:
                    return False
                existing = await self._existing(connection, webhook_id, [d.position for d in deliveries])
                fresh = {
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "first_attempt_at": now,
                    "next_attempt_at": now,
                    "last_attempt_at": None,
                    "last_status": None,
                    "last_error": None,
                    "delivered_at": None,
                }
                new_rows = [
                    {
                        "webhook_id": webhook_id,
                        "position": d.position,
                        "event_id": d.event_id,
                        "body": d.body.decode(),
                        **fresh,
                    }
                    for d in deliveries
                    if d.position not in existing
                ]
                if new_rows:
                    await connection.execute(insert(_D), new_rows)
                for d in deliveries:
                    if d.position in existing:  # a replay: the same delivery, pending again
                        await connection.execute(
                            update(_D)
                            .where(_D.webhook_id == webhook_id, _D.position == d.position)
                            .values(body=d.body.decode(), **fresh)
                        )
        return True

    async def rewind(self, webhook_id: str, position: int) -> None:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(
                    update(_W).where(_W.id == webhook_id, _W.cursor > position).values(cursor=position)
                )
                await connection.execute(
                    update(_W).where(_W.id == webhook_id).values(disabled_at=None, disabled_reason=None)
                )

    async def due(self, now: datetime, *, limit: int) -> list[DueDelivery]:
        statement = (
            select(_D, _W.url, _W.secret)
            .join(_W, _W.id == _D.webhook_id)
            .where(
                _D.state == DeliveryState.PENDING.value,
                _D.next_attempt_at <= now,
                _W.disabled_at.is_(None),
            )
            .order_by(_D.next_attempt_at, _D.position, _D.id)
            .limit(limit)
        )
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                rows = (await connection.execute(statement)).all()
        return [
            DueDelivery(
                id=int(r.id),
                webhook_id=r.webhook_id,
                url=r.url,
                secret=r.secret,
                position=int(r.position),
                event_id=r.event_id,
                body=r.body.encode(),
                attempts=int(r.attempts),
                first_attempt_at=r.first_attempt_at,
            )
            for r in rows
        ]

    async def record(self, outcomes: Sequence[DeliveryOutcome]) -> None:
        if not outcomes:
            return
        # One statement executed for many rows (executemany), not a round trip per delivery.
        statement = (
            update(_D)
            .where(_D.id == bindparam("b_id"), _D.state == DeliveryState.PENDING.value)
            .values(
                state=bindparam("b_state"),
                attempts=_D.attempts + 1,
                last_attempt_at=bindparam("b_at", type_=UTCDateTime()),
                last_status=bindparam("b_status", type_=Integer()),
                last_error=bindparam("b_error", type_=String()),
                next_attempt_at=bindparam("b_next", type_=UTCDateTime()),
                delivered_at=bindparam("b_delivered", type_=UTCDateTime()),
            )
        )
        rows = [
            {
                "b_id": o.delivery_id,
                "b_state": o.state.value,
                "b_at": o.attempted_at,
                "b_status": o.status,
                "b_error": o.error[:500] if o.error is not None else None,
                "b_next": o.next_attempt_at,
                "b_delivered": o.attempted_at if o.state is DeliveryState.DELIVERED else None,
            }
            for o in outcomes
        ]
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(statement, rows)

    async def prune_delivered(self, before: datetime) -> int:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                result = await connection.execute(
                    delete(_D).where(_D.state == DeliveryState.DELIVERED.value, _D.delivered_at < before)
                )
        return int(result.rowcount)

    async def disable(self, webhook_id: str, *, reason: str, now: datetime) -> None:
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await connection.execute(
                    update(_W)
                    .where(_W.id == webhook_id, _W.disabled_at.is_(None))
                    .values(disabled_at=now, disabled_reason=reason)
                )
                await connection.execute(
                    update(_D)
                    .where(_D.webhook_id == webhook_id, _D.state == DeliveryState.PENDING.value)
                    .values(state=DeliveryState.DEAD.value, last_error=reason, next_attempt_at=None)
                )

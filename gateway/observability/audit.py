"""The audit trail, counted: every event appended shows in ``gateway_audit_events_total``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from gateway.core.audit import AuditCursor, AuditEvent, AuditFilter, AuditPage
from gateway.core.store_ports import AuditTrail

from .metrics import GatewayMetrics

__all__ = ["CountedAuditTrail"]


class CountedAuditTrail:
    """``trail``, with each successful append counted by operation and phase."""

    def __init__(self, trail: AuditTrail, metrics: GatewayMetrics) -> None:
        self._trail = trail
        self._metrics = metrics

    async def append(self, events: Sequence[AuditEvent]) -> None:
        await self._trail.append(events)
        self._metrics.observe_audit(events)

    async def page(self, filter: AuditFilter, *, first: int, after: AuditCursor | None) -> AuditPage:
        return await self._trail.page(filter, first=first, after=after)

    def export(self, since: datetime, until: datetime | None) -> AsyncIterator[AuditEvent]:
        return self._trail.export(since, until)

    async def prune(self, before: datetime) -> int:
        return await self._trail.prune(before)

    async def aclose(self) -> None:
        await self._trail.aclose()

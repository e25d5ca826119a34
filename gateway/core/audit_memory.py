"""An audit trail in this process's memory: for tests and tools that build services without a database.

The application always keeps its trail in the gateway's database (``gateway.store.audit``); this one
follows the same rules (append-only, one visible event per contact, newest first) so that core's tests
exercise the same behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from .audit import AuditCursor, AuditEvent, AuditFilter, AuditPage, AuditPhase

__all__ = ["MemoryAuditTrail"]


class MemoryAuditTrail:
    def __init__(self) -> None:
        self.rows: list[AuditEvent] = []
        """Every event appended, intents and outcomes alike, in order."""

    async def append(self, events: Sequence[AuditEvent]) -> None:
        self.rows.extend(events)

    def visible(self) -> list[AuditEvent]:
        """One event per contact, newest first: outcomes, and intents without an outcome."""
        concluded = {e.action_id for e in self.rows if e.phase is AuditPhase.OUTCOME}
        shown = [e for e in self.rows if e.phase is AuditPhase.OUTCOME or e.action_id not in concluded]
        return sorted(shown, key=AuditCursor.after, reverse=True)

    async def page(self, filter: AuditFilter, *, first: int, after: AuditCursor | None) -> AuditPage:
        matching = [
            e for e in self.visible() if filter.matches(e) and (after is None or AuditCursor.after(e) < after)
        ]
        return AuditPage(matching[:first], len(matching) > first)

    async def export(self, since: datetime, until: datetime | None) -> AsyncIterator[AuditEvent]:
        for event in reversed(self.visible()):
            if AuditFilter(since=since, until=until).matches(event):
                yield event

    async def prune(self, before: datetime) -> int:
        kept = [e for e in self.rows if e.at >= before]
        removed = len(self.rows) - len(kept)
        self.rows = kept
        return removed

    async def aclose(self) -> None:
        """Nothing to release."""

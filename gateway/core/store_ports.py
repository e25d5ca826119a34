"""The Protocols the gateway's own database implements for core and the HTTP edge (``gateway.store``).

Kept apart from ``ports.py``, which describes the providers: these describe the gateway's own state.
Room is left here for the deleted-contact index, which builds on the same store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from .audit import AuditCursor, AuditEvent, AuditFilter, AuditPage
from .idempotency import IdempotencyStore
from .principals import Principal

__all__ = ["AuditTrail", "CredentialVerifier", "PrincipalIdempotencyStore"]


class CredentialVerifier(Protocol):
    async def verify(self, credential: str) -> Principal | None:
        """The principal ``credential`` stands for, or None when it is unknown, malformed, expired or
        revoked.  A revocation made through any replica is seen by the next call on every replica."""
        ...


class PrincipalIdempotencyStore(IdempotencyStore, Protocol):
    """Every idempotency store the gateway builds: mutations always go through
    :meth:`for_principal`, so one principal's keys never find, replay or block another's."""

    def for_principal(self, principal: Principal) -> IdempotencyStore:
        """The same store seen by one principal: its keys and results are invisible to every other."""
        ...


class AuditTrail(Protocol):
    """The append-only audit trail (``gateway.core.audit``): events go in, and are never changed.

    Readers see one event per contact: its outcome, or its intent (status ``UNKNOWN``) while no
    outcome shares its ``action_id``.
    """

    async def append(self, events: Sequence[AuditEvent]) -> None:
        """Record ``events`` together (one write); a failure is ``DatabaseError``."""
        ...

    async def page(self, filter: AuditFilter, *, first: int, after: AuditCursor | None) -> AuditPage:
        """Up to ``first`` events matching ``filter``, newest first, strictly after ``after``."""
        ...

    def export(self, since: datetime, until: datetime | None) -> AsyncIterator[AuditEvent]:
        """Every event from ``since`` (inclusive) to ``until`` (exclusive), oldest first, read in
        bounded batches so that any number of events streams in constant memory."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete the events older than ``before`` (retention, the one deletion there is); how many."""
        ...

    async def aclose(self) -> None: ...

"""The audit trail's model: one event per contact of every mutation, and how a mutation becomes events.

Every item of a ``deleteContacts`` or ``restoreContacts`` input leaves an event saying who asked
(the principal), what for (operation, provider, contact id, address), what came of it (status and
code), under which request (the gateway's request id, the caller's correlation id, the idempotency
key) and whether it was a dry run, a replay, or let through by a consent override.

The trail is append-only and written in two phases.  Before a contact is written upstream, an
*intent* event with status ``UNKNOWN`` is recorded; after the mutation, an *outcome* event with the
same ``action_id`` follows.  A reader sees one event per contact: the outcome when there is one, else
the intent, still ``UNKNOWN``, which is exactly what is known after a crash between the two.
Contacts never written upstream (not found, blocked, dry run, bad input) get an outcome event only.

This module holds the model, the filter and the translation; the storage is behind
``gateway.core.store_ports.AuditTrail`` (the database in the application, memory in tests).
"""

from __future__ import annotations

import binascii
import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from gateway.base64url import encode as base64url
from gateway.errors import InvalidCursor

from .model import Provider
from .ports import OperationOutcome, Target
from .principals import Caller, PrincipalKind
from .references import InputProblem, InputSubject, Reference

if TYPE_CHECKING:  # actions imports this module; the report is only a type here
    from .actions import MutationReport

__all__ = [
    "AuditCursor",
    "AuditEvent",
    "AuditFilter",
    "AuditPage",
    "AuditPhase",
    "AuditStatus",
    "MutationContext",
    "OverrideKey",
    "failure_events",
    "intent_events",
    "outcome_events",
    "retention_cutoff",
]

OverrideKey = tuple[int, str]
"""(input index, contact id) of a contact a consent override let through."""


class AuditStatus(enum.Enum):
    UNKNOWN = "unknown"
    """The contact was about to be written upstream and no outcome was recorded (yet)."""
    DONE = "done"
    PENDING = "pending"
    FAILED = "failed"
    SKIPPED = "skipped"


class AuditPhase(enum.Enum):
    INTENT = "intent"
    """Written before the upstream call."""
    OUTCOME = "outcome"
    """Written after the mutation; the only phase of contacts that were not written upstream."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    action_id: str
    """Shared by an intent and its outcome."""
    phase: AuditPhase
    at: datetime
    principal_kind: PrincipalKind
    principal_id: str
    principal_name: str
    operation: str
    provider: Provider | None
    """None when the item could not be read far enough to name one."""
    item_index: int | None
    """The item's position in the mutation's ``contacts`` (None for a mutation-wide refusal)."""
    contact_id: str | None
    email: str | None
    status: AuditStatus
    code: str | None
    message: str | None
    override_reason: str | None
    """Set on the contacts a consent override let through, and only on them."""
    request_id: str
    correlation_id: str | None
    idempotency_key: str | None
    dry_run: bool
    replay: bool
    """The answer was a recorded one, played back for a repeated idempotency key: nothing was sent."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Every condition given must hold; ``since`` is inclusive, ``until`` exclusive."""

    principal_id: str | None = None
    provider: Provider | None = None
    contact_id: str | None = None
    email: str | None = None
    """Compared case-insensitively, whole address."""
    operation: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, event: AuditEvent) -> bool:
        return (
            (self.principal_id is None or event.principal_id == self.principal_id)
            and (self.provider is None or event.provider is self.provider)
            and (self.contact_id is None or event.contact_id == self.contact_id)
            and (self.email is None or (event.email or "").lower() == self.email.lower())
            and (self.operation is None or event.operation == self.operation)
            and (self.since is None or event.at >= self.since)
            and (self.until is None or event.at < self.until)
        )


@dataclass(frozen=True, slots=True, order=True)
class AuditCursor:
    """Where a page of events, newest first, stopped: the last event's time and id."""

    at: datetime
    id: str

    @classmethod
    def after(cls, event: AuditEvent) -> AuditCursor:
        return cls(event.at, event.id)

    def encode(self) -> str:
        return base64url(orjson.dumps(["audit", self.at.isoformat(), self.id]).decode())

    @classmethod
    def decode(cls, text: str) -> AuditCursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            kind, at, event_id = orjson.loads(binascii.a2b_base64(padded.replace("-", "+").replace("_", "/")))
            moment = datetime.fromisoformat(at)
            if kind != "audit" or not isinstance(event_id, str) or moment.tzinfo is None:
                raise ValueError(kind)
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidCursor("not a cursor of auditEvents") from None
        return cls(moment.astimezone(UTC), event_id)


def retention_cutoff(days: float, now: datetime | None = None) -> datetime:
    """The moment before which events are past a retention of ``days`` (``AUDIT_RETENTION_DAYS``)."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[AuditEvent]
    """Newest first."""
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class MutationContext:
    """What every event of one mutation shares."""

    caller: Caller
    operation: str
    idempotency_key: str | None
    dry_run: bool
    override_reason: str | None = None

    def event(
        self,
        *,
        at: datetime,
        phase: AuditPhase,
        status: AuditStatus,
        item_index: int | None,
        provider: Provider | None,
        contact_id: str | None,
        email: str | None,
        code: str | None = None,
        message: str | None = None,
        action_id: str | None = None,
        override_reason: str | None = None,
        replay: bool = False,
    ) -> AuditEvent:
        principal = self.caller.principal
        return AuditEvent(
            id=uuid.uuid4().hex,
            action_id=action_id or uuid.uuid4().hex,
            phase=phase,
            at=at,
            principal_kind=principal.kind,
            principal_id=principal.id,
            principal_name=principal.name,
            operation=self.operation,
            provider=provider,
            item_index=item_index,
            contact_id=contact_id,
            email=email,
            status=status,
            code=code,
            message=message,
            override_reason=override_reason,
            request_id=self.caller.request_id,
            correlation_id=self.caller.correlation_id,
            idempotency_key=self.idempotency_key,
            dry_run=self.dry_run,
            replay=replay,
        )


def intent_events(
    context: MutationContext, contacts: Sequence[tuple[Target, str]], *, at: datetime
) -> list[AuditEvent]:
    """One ``UNKNOWN`` intent per (target, contact id) about to be written upstream."""
    seen: set[tuple[int, str]] = set()
    events: list[AuditEvent] = []
    for target, contact_id in contacts:
        if (target.index, contact_id) in seen:
            continue
        seen.add((target.index, contact_id))
        events.append(
            context.event(
                at=at,
                phase=AuditPhase.INTENT,
                status=AuditStatus.UNKNOWN,
                item_index=target.index,
                provider=target.provider,
                contact_id=contact_id,
                email=target.email,
            )
        )
    return events


def _outcome_event(
    context: MutationContext,
    outcome: OperationOutcome,
    *,
    at: datetime,
    intents: Mapping[tuple[int | None, str | None], str],
    overridden: frozenset[OverrideKey],
    replay: bool,
) -> AuditEvent:
    target = outcome.target
    contact_id = outcome.contact_id or target.contact_id
    overriding = contact_id is not None and (target.index, contact_id) in overridden
    return context.event(
        at=at,
        phase=AuditPhase.OUTCOME,
        status=AuditStatus(outcome.status.value),
        item_index=target.index,
        provider=target.provider,
        contact_id=contact_id,
        email=outcome.email or target.email,
        code=outcome.code,
        message=outcome.message,
        action_id=intents.get((target.index, contact_id)),
        override_reason=context.override_reason if overriding else None,
        replay=replay,
    )


def outcome_events(
    context: MutationContext,
    references: Sequence[Reference],
    report: MutationReport,
    *,
    at: datetime,
    intents: Sequence[AuditEvent] = (),
    replay: bool = False,
) -> list[AuditEvent]:
    """Every item of ``references`` turned into at least one outcome event (one per contact it
    resolved to); an outcome of a contact with an intent shares that intent's ``action_id``.

    An item the report has no outcome for gets the problem reported on it, or the mutation-wide
    problem (too many contacts, a bad override reason) that stopped everything.
    """
    action_ids = {(e.item_index, e.contact_id): e.action_id for e in intents}
    events = [
        _outcome_event(context, o, at=at, intents=action_ids, overridden=report.overridden, replay=replay)
        for o in report.outcomes
    ]
    answered = {o.target.index for o in report.outcomes}
    on_items: dict[int, InputProblem] = {}
    general: InputProblem | None = None
    for reported in report.problems:
        if reported.subject is InputSubject.CONTACT and reported.index is not None:
            on_items.setdefault(reported.index, reported)
        elif general is None:
            general = reported
    for position, reference in enumerate(references):
        index = reference.index if reference.index is not None else position
        if index in answered:
            continue
        problem = on_items.get(index, general)
        target = reference if isinstance(reference, Target) else None
        events.append(
            context.event(
                at=at,
                phase=AuditPhase.OUTCOME,
                status=AuditStatus.SKIPPED,
                item_index=index,
                provider=target.provider if target else None,
                contact_id=target.contact_id if target else None,
                email=target.email if target else None,
                code=problem.code if problem else None,
                message=problem.message if problem else "no outcome was reported for this item",
                replay=replay,
            )
        )
    return events


def failure_events(
    context: MutationContext,
    references: Sequence[Reference],
    *,
    code: str,
    message: str,
    at: datetime,
    intents: Sequence[AuditEvent] = (),
) -> list[AuditEvent]:
    """The mutation failed as a whole (refused, or an error before any outcome): every item FAILED.

    Items with an intent get nothing more: their write may have reached the provider before the
    failure, so their intent's ``UNKNOWN`` is what the trail can truthfully say.
    """
    announced = {intent.item_index for intent in intents}
    events: list[AuditEvent] = []
    for position, reference in enumerate(references):
        index = reference.index if reference.index is not None else position
        if index in announced:
            continue
        target = reference if isinstance(reference, Target) else None
        events.append(
            context.event(
                at=at,
                phase=AuditPhase.OUTCOME,
                status=AuditStatus.FAILED,
                item_index=index,
                provider=target.provider if target else None,
                contact_id=target.contact_id if target else None,
                email=target.email if target else None,
                code=code,
                message=message,
            )
        )
    return events

"""``auditEvents``: the audit trail of the mutations, newest first (scope ``audit:read``).

A translation only: the filter becomes ``gateway.core.audit.AuditFilter``, the page comes from the
trail in ``Services.audit``, and each event becomes an ``AuditEvent`` object.  The cursor is opaque
(a keyset position in the trail).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.core import audit, model
from gateway.core.principals import PrincipalKind, Scope
from gateway.errors import UserInputError

from .context import Info
from .permissions import requires

if TYPE_CHECKING:
    from .queries import PageInfo

__all__ = [
    "AuditEvent",
    "AuditEventConnection",
    "AuditEventFilter",
    "audit_events",
]

AuditStatus = strawberry.enum(
    audit.AuditStatus,
    name="AuditStatus",
    description="DONE, PENDING, FAILED, SKIPPED as in MutationStatus; UNKNOWN: the contact was about to "
    "be written upstream and no outcome was recorded (the gateway stopped in between, or it is running).",
)
AuditPrincipalKind = strawberry.enum(
    PrincipalKind,
    name="AuditPrincipalKind",
    description="KEY: a service key. TOKEN: an OIDC access token. LOCAL: authentication was off.",
)


@strawberry.type(description="Who acted: a service key (id and name) or a token (issuer and subject).")
class AuditPrincipal:
    kind: PrincipalKind
    id: str
    name: str


@strawberry.type(description="What happened to one contact of one mutation.")
class AuditEvent:
    id: strawberry.ID
    action_id: str = strawberry.field(description="Shared by the intent and the outcome of one write.")
    at: datetime
    principal: AuditPrincipal
    operation: str = strawberry.field(description="deleteContacts or restoreContacts.")
    provider: model.Provider | None
    index: int | None = strawberry.field(description="The item's position in the mutation's contacts.")
    contact_id: str | None
    email: str | None
    status: audit.AuditStatus
    code: str | None
    message: str | None
    override_reason: str | None = strawberry.field(
        description="The consent override's reason, on the contacts it let through."
    )
    request_id: str = strawberry.field(description="The gateway's own id of the request (X-Request-ID).")
    correlation_id: str | None = strawberry.field(description="The caller's X-Request-ID, if it sent one.")
    idempotency_key: str | None
    dry_run: bool
    replay: bool = strawberry.field(
        description="A recorded answer was played back for a repeated idempotencyKey; nothing was sent."
    )

    @classmethod
    def from_event(cls, event: audit.AuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(event.id),
            action_id=event.action_id,
            at=event.at,
            principal=AuditPrincipal(
                kind=event.principal_kind, id=event.principal_id, name=event.principal_name
            ),
            operation=event.operation,
            provider=event.provider,
            index=event.item_index,
            contact_id=event.contact_id,
            email=event.email,
            status=event.status,
            code=event.code,
            message=event.message,
            override_reason=event.override_reason,
            request_id=event.request_id,
            correlation_id=event.correlation_id,
            idempotency_key=event.idempotency_key,
            dry_run=event.dry_run,
            replay=event.replay,
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="Audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: Annotated[PageInfo, strawberry.lazy("gateway.schema.queries")]


def _utc(moment: datetime | None) -> datetime | None:
    """A moment without a zone is read as UTC, the trail's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@strawberry.input(description="Every condition given must hold.")
class AuditEventFilter:
    principal: str | None = strawberry.field(default=None, description="The principal's id.")
    provider: model.Provider | None = None
    contact_id: str | None = None
    email: str | None = strawberry.field(default=None, description="The whole address, any case.")
    operation: str | None = strawberry.field(default=None, description="deleteContacts or restoreContacts.")
    from_: datetime | None = strawberry.field(default=None, name="from", description="Inclusive.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_core(self, info: Info) -> audit.AuditFilter:
        limits = info.context.services.limits
        if self.principal is not None:
            limits.check_text(self.principal, limits.max_global_id_length, "principal")
        if self.contact_id is not None:
            limits.provider_id(self.contact_id, "contactId")
        if self.email is not None:
            limits.check_text(self.email, limits.max_email_length, "email")
        if self.operation is not None:
            limits.check_text(self.operation, limits.max_id_length, "operation")
        return audit.AuditFilter(
            principal_id=self.principal,
            provider=self.provider,
            contact_id=self.contact_id,
            email=self.email,
            operation=self.operation,
            since=_utc(self.from_),
            until=_utc(self.to),
        )


async def audit_events(
    info: Info,
    filter: AuditEventFilter | None = None,
    first: Annotated[
        int | None, strawberry.argument(description="Page size: default 50, at most 500 (settable).")
    ] = None,
    after: Annotated[str | None, strawberry.argument(description="An endCursor of an earlier page.")] = None,
) -> AuditEventConnection | None:
    from .queries import PageInfo  # queries imports this module for its field

    services = info.context.services
    size = services.audit_default_page_size if first is None else first
    if not 1 <= size <= services.audit_max_page_size:
        raise UserInputError(f"`first` must be between 1 and {services.audit_max_page_size}")
    position = None
    if after is not None:
        position = audit.AuditCursor.decode(services.limits.cursor(after, "after"))
    page = await services.audit.page((filter or AuditEventFilter()).to_core(info), first=size, after=position)
    edges = [
        AuditEventEdge(cursor=audit.AuditCursor.after(e).encode(), node=AuditEvent.from_event(e))
        for e in page.events
    ]
    return AuditEventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


audit_events_field = strawberry.field(
    resolver=audit_events,
    description="The audit trail: one event per contact of every mutation, newest first.",
    extensions=requires(Scope.AUDIT_READ),
)

"""GraphQL output types.

Leaf fields are plain attributes filled once when an object is built from the core model: Strawberry
then skips resolver and ``Info`` work for them, and graphql-core completes them without creating a
coroutine each (an ``async`` leaf would make it await one per field).  Only fields that do I/O
(``campaign``, ``message``) are ``async`` and they go through the per-request DataLoaders, calling
``load()`` before any other ``await``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.core import index as index_model
from gateway.core import model
from gateway.core.filters import TextOperator as CoreTextOperator
from gateway.core.ports import BulkProgress, OutcomeStatus, ProviderHealth
from gateway.core.principals import Scope

from .context import Info
from .ids import CONTACT_TYPE_BY_PROVIDER, encode_global_id
from .permissions import requires

__all__ = [
    "BulkOperation",
    "Consistency",
    "ConstantContactDeletedContact",
    "ConstantContactList",
    "DeletedContact",
    "DeletionReason",
    "DeletionReasonFilter",
    "GetResponseCampaign",
    "GetResponseDeletedContact",
    "GetResponseMessage",
    "MutationStatus",
    "Node",
    "Provider",
    "ProviderStatus",
    "TextOperator",
    "contact_type",
]

Provider = strawberry.enum(model.Provider, description="An email-marketing provider behind the gateway.")
Consistency = strawberry.enum(
    index_model.Consistency,
    description="Where a listing reads from: the synced index (page cost at any size, as fresh as its "
    "last sync) or the providers themselves (everything is read for a first page).",
)
DeletionReason = strawberry.enum(
    model.DeletionReason,
    description="Why a contact was deleted (GetResponse's general reasons; UNKNOWN where none is recorded).",
)
DeletionReasonFilter = strawberry.enum(
    model.ReasonFilter,
    name="DeletionReasonFilter",
    description="A general reason or one of GetResponse's specific sub-reasons (BOUNCE_MAILBOX_FULL, ...).",
)
TextOperator = strawberry.enum(
    CoreTextOperator,
    description="EQUALS/NOT_EQUALS compare literally; CONTAINS/NOT_CONTAINS are LIKE patterns "
    "(% any run, _ one character). All are case-insensitive.",
)
MutationStatus = strawberry.enum(
    OutcomeStatus,
    name="MutationStatus",
    description="DONE: applied. PENDING: accepted, completes later (a Constant Contact bulk activity, a "
    "GetResponse addition awaiting confirmation). FAILED: the provider refused or failed. SKIPPED: not "
    "attempted (consent, not found, dry run).",
)


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A contact deleted at one provider, in the gateway's common shape.")
class DeletedContact(Node):
    provider: model.Provider
    contact_id: str = strawberry.field(description="The provider's own id of the contact.")
    email: str
    name: str | None
    created_at: datetime | None
    deleted_on: date = strawberry.field(description="The day of the deletion (UTC).")
    deleted_at: datetime | None = strawberry.field(
        description="The moment of the deletion; null where the provider records only a day."
    )
    reason: model.DeletionReason
    restorable: bool = strawberry.field(
        description="False when this deletion means the person withdrew consent (an unsubscribe, "
        "complaint or blacklisting); a restore then needs an explicit consentOverride. restoreContacts "
        "also checks the address at every other provider (a complaint anywhere blocks it)."
    )
    restore_blocked_by: str | None = strawberry.field(description="Why `restorable` is false.")
    raw: JSON | None = strawberry.field(
        description="The provider's record, unchanged (scope contacts:read:raw).",
        extensions=requires(Scope.CONTACTS_READ_RAW),
    )


def _common(contact: model.DeletedContact) -> dict[str, Any]:
    return {
        "id": encode_global_id(CONTACT_TYPE_BY_PROVIDER[contact.provider], contact.contact_id),
        "provider": contact.provider,
        "contact_id": contact.contact_id,
        "email": contact.email,
        "name": contact.name,
        "created_at": contact.created_at,
        "deleted_on": contact.deleted_on,
        "deleted_at": contact.deleted_at,
        "reason": contact.reason,
        "restorable": contact.restorable,
        "restore_blocked_by": contact.restore_blocked_by,
        "raw": contact.raw,
    }


@strawberry.type(description="A contact deleted at Constant Contact (soft-deleted; it keeps its data).")
class ConstantContactDeletedContact(DeletedContact):
    first_name: str | None
    last_name: str | None
    job_title: str | None
    company_name: str | None
    permission_to_send: str | None
    opt_in_source: str | None
    opt_in_date: datetime | None
    confirm_status: str | None
    create_source: str | None
    update_source: str | None
    updated_at: datetime | None

    @classmethod
    def from_model(cls, contact: model.DeletedContact) -> ConstantContactDeletedContact:
        record = contact.record
        address = record.email_address
        return cls(
            **_common(contact),
            first_name=record.first_name,
            last_name=record.last_name,
            job_title=record.job_title,
            company_name=record.company_name,
            permission_to_send=address.permission_to_send if address else None,
            opt_in_source=address.opt_in_source if address else None,
            opt_in_date=address.opt_in_date if address else None,
            confirm_status=address.confirm_status if address else None,
            create_source=record.create_source,
            update_source=record.update_source,
            updated_at=record.updated_at,
        )


@strawberry.type(description="A GetResponse campaign (a list of contacts).")
class GetResponseCampaign:
    id: strawberry.ID
    name: str
    description: str | None
    is_default: bool | None
    optin: str | None
    from_email: str | None
    created_on: datetime | None

    @classmethod
    def from_record(cls, record: Any) -> GetResponseCampaign:
        return cls(
            id=strawberry.ID(record.campaign_id),
            name=record.name,
            description=record.description,
            is_default=record.is_default,
            optin=record.optin,
            from_email=record.from_email,
            created_on=record.created_on,
        )


@strawberry.type(description="A GetResponse message (newsletter, autoresponder, ...).")
class GetResponseMessage:
    id: strawberry.ID
    campaign_id: str | None
    type: str | None
    subject: str | None
    name: str | None
    created_on: datetime | None

    @classmethod
    def from_record(cls, record: Any) -> GetResponseMessage:
        return cls(
            id=strawberry.ID(record.message_id),
            campaign_id=record.campaign_id,
            type=record.type,
            subject=record.subject,
            name=record.name,
            created_on=record.created_on,
        )


@strawberry.type(description="A contact deleted from a GetResponse campaign.")
class GetResponseDeletedContact(DeletedContact):
    campaign_id: strawberry.ID
    message_id: strawberry.ID | None = strawberry.field(
        description="The message the contact was removed from, when known (e.g. an unsubscribe link)."
    )
    origin: str | None
    ip: str | None = strawberry.field(
        description="The address the contact subscribed from (scope contacts:read:raw).",
        extensions=requires(Scope.CONTACTS_READ_RAW),
    )
    cycle_day: int | None

    @strawberry.field(description="The campaign the contact was deleted from.")
    async def campaign(self, info: Info) -> GetResponseCampaign | None:
        record = await info.context.loaders.getresponse_catalog.load(("campaign", str(self.campaign_id)))
        return GetResponseCampaign.from_record(record) if record is not None else None

    @strawberry.field(description="The message the contact was removed from; null when none is recorded.")
    async def message(self, info: Info) -> GetResponseMessage | None:
        if self.message_id is None:
            return None
        record = await info.context.loaders.getresponse_catalog.load(("message", str(self.message_id)))
        return GetResponseMessage.from_record(record) if record is not None else None

    @classmethod
    def from_model(cls, contact: model.DeletedContact) -> GetResponseDeletedContact:
        record = contact.record
        return cls(
            **_common(contact),
            campaign_id=strawberry.ID(record.campaign_id),
            message_id=strawberry.ID(record.message_id) if record.message_id else None,
            origin=record.origin,
            ip=record.ip,
            cycle_day=record.cycle_day,
        )


_BUILDERS = {
    model.Provider.CONSTANT_CONTACT: ConstantContactDeletedContact.from_model,
    model.Provider.GETRESPONSE: GetResponseDeletedContact.from_model,
}


def contact_type(contact: model.DeletedContact) -> DeletedContact:
    """The GraphQL object for a core deleted contact (the provider-specific type)."""
    return _BUILDERS[contact.provider](contact)


@strawberry.type(description="A Constant Contact contact list (restore targets).")
class ConstantContactList:
    id: strawberry.ID
    name: str
    description: str | None
    membership_count: int | None
    created_at: datetime | None


@strawberry.type(description="A provider-side bulk job: a Constant Contact activity.")
class BulkOperation(Node):
    provider: model.Provider
    operation_id: str = strawberry.field(description="The provider's id (Constant Contact activity_id).")
    kind: str
    state: str
    percent_done: int | None
    items_total: int | None
    items_completed: int | None
    errors: list[str]
    created_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_progress(cls, progress: BulkProgress) -> BulkOperation:
        local_id = f"{progress.provider.value}:{progress.operation_id}"
        return cls(
            id=strawberry.ID(encode_global_id("BulkOperation", local_id)),
            provider=progress.provider,
            operation_id=progress.operation_id,
            kind=progress.kind,
            state=progress.state,
            percent_done=progress.percent_done,
            items_total=progress.items_total,
            items_completed=progress.items_completed,
            errors=list(progress.errors),
            created_at=progress.created_at,
            completed_at=progress.completed_at,
        )


@strawberry.type(description="Daily request budget at a provider, as the gateway counts it.")
class RateBudget:
    remaining_today: int | None
    daily_limit: int | None
    resets_at: datetime | None
    requests_per_second: float | None


@strawberry.type(description="A provider as this gateway sees it.")
class ProviderStatus:
    provider: model.Provider
    configured: bool
    healthy: bool
    circuit_state: str = strawberry.field(description="closed, open or half_open.")
    rate_budget: RateBudget | None

    @classmethod
    def from_health(cls, health: ProviderHealth) -> ProviderStatus:
        budget = None
        if health.budget_limit is not None or health.rate_per_second is not None:
            budget = RateBudget(
                remaining_today=health.budget_remaining,
                daily_limit=health.budget_limit,
                resets_at=health.budget_resets_at,
                requests_per_second=health.rate_per_second,
            )
        return cls(
            provider=health.provider,
            configured=health.configured,
            healthy=health.healthy,
            circuit_state=health.circuit_state,
            rate_budget=budget,
        )

"""GraphQL input types, and their translation into the core model (with typed errors for bad input)."""

from __future__ import annotations

from datetime import date

import strawberry

from gateway.core import filters, model
from gateway.core.input_limits import InputLimits
from gateway.errors import InvalidId, UserInputError, shown

from . import types as _types  # noqa: F401  (registers the TextOperator enum with Strawberry)
from .ids import PROVIDER_BY_CONTACT_TYPE, decode_global_id

__all__ = [
    "ConsentOverrideInput",
    "ContactRefInput",
    "DayRangeInput",
    "DeleteContactsInput",
    "DeletedContactFilterInput",
    "RestoreContactsInput",
    "TextConditionInput",
    "contact_key_from_global_id",
]


@strawberry.input(description="A text condition, GetResponse style.")
class TextConditionInput:
    operator: filters.TextOperator
    value: str

    def to_core(self, limits: InputLimits, field_name: str) -> filters.TextCondition:
        return filters.TextCondition(self.operator, limits.pattern(self.value, f"{field_name}.value"))


@strawberry.input(description="Inclusive UTC calendar days. Give `on` alone, or `from` and/or `to`.")
class DayRangeInput:
    from_: date | None = strawberry.field(default=None, name="from")
    to: date | None = None
    on: date | None = None

    def to_core(self, limits: InputLimits, field_name: str) -> filters.DayRange:
        for name, day in (("from", self.from_), ("to", self.to), ("on", self.on)):
            if day is not None:
                limits.check_day(day, f"{field_name}.{name}")
        if self.on is not None:
            if self.from_ is not None or self.to is not None:
                raise UserInputError(f"{field_name}: give either `on` or `from`/`to`, not both")
            return filters.DayRange.on(self.on)
        if self.from_ and self.to and self.from_ > self.to:
            raise UserInputError(f"{field_name}: `from` ({self.from_}) is after `to` ({self.to})")
        return filters.DayRange(self.from_, self.to)


@strawberry.input(description="Which deleted contacts to list. Every condition is ANDed.")
class DeletedContactFilterInput:
    providers: list[model.Provider] | None = strawberry.field(
        default=None, description="Only these providers (default: every configured one)."
    )
    email: list[TextConditionInput] | None = strawberry.field(
        default=None, description="Conditions on the address, ANDed."
    )
    name: list[TextConditionInput] | None = strawberry.field(
        default=None,
        description="Conditions on the contact's name, ANDed (evaluated by the gateway: neither provider "
        "can search deleted contacts by name).",
    )
    reasons: list[model.ReasonFilter] | None = strawberry.field(
        default=None, description="Any of these reasons. Sub-reasons are known only to GetResponse."
    )
    created_on: DayRangeInput | None = None
    deleted_on: DayRangeInput | None = None
    campaign_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="GetResponse campaigns (ORed with campaignName). Implies GetResponse only."
    )
    campaign_name: TextConditionInput | None = None
    message_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="GetResponse messages (ORed with messageName). Implies GetResponse only."
    )
    message_name: TextConditionInput | None = None

    def to_core(self, limits: InputLimits) -> filters.DeletedContactFilter:
        """The core filter, every value checked against ``limits`` first (``UserInputError``)."""
        empty = filters.DayRange()
        return filters.DeletedContactFilter(
            email=_conditions(self.email, limits, "filter.email"),
            name=_conditions(self.name, limits, "filter.name"),
            reasons=frozenset(self.reasons or ()),
            created=self.created_on.to_core(limits, "filter.createdOn") if self.created_on else empty,
            deleted=self.deleted_on.to_core(limits, "filter.deletedOn") if self.deleted_on else empty,
            campaign_ids=limits.provider_ids(self.campaign_ids or (), "filter.campaignIds"),
            campaign_name=self.campaign_name.to_core(limits, "filter.campaignName")
            if self.campaign_name
            else None,
            message_ids=limits.provider_ids(self.message_ids or (), "filter.messageIds"),
            message_name=self.message_name.to_core(limits, "filter.messageName")
            if self.message_name
            else None,
            providers=frozenset(self.providers or ()),
        )


def _conditions(
    given: list[TextConditionInput] | None, limits: InputLimits, field_name: str
) -> tuple[filters.TextCondition, ...]:
    conditions = given or []
    limits.check_count(conditions, limits.max_list_items, field_name, "conditions")
    return tuple(c.to_core(limits, f"{field_name}[{i}]") for i, c in enumerate(conditions))


def contact_key_from_global_id(global_id: str) -> model.ContactKey:
    type_name, local_id = decode_global_id(global_id)
    provider = PROVIDER_BY_CONTACT_TYPE.get(type_name)
    if provider is None:
        raise InvalidId(f"{shown(global_id)} is not the id of a deleted contact")
    return model.ContactKey(provider, local_id)


@strawberry.input(
    description="One contact: its global `id`, or `provider` with `contactId`, or `provider` with `email`."
)
class ContactRefInput:
    id: strawberry.ID | None = None
    provider: model.Provider | None = None
    contact_id: str | None = None
    email: str | None = None


@strawberry.input(description="Why a consent block is being overridden; logged for audit.")
class ConsentOverrideInput:
    reason: str = strawberry.field(description="At least 10 characters: who agreed, when, and how.")


@strawberry.input
class DeleteContactsInput:
    contacts: list[ContactRefInput]
    wait_for_completion: bool = strawberry.field(
        default=False, description="Wait (bounded) for Constant Contact bulk activities to finish."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Find what would be deleted and say so; change nothing."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a request with a key used before (same input, within 24 h) gets the "
        "first result back and changes nothing; the same key with other input is refused.",
    )


@strawberry.input
class RestoreContactsInput:
    contacts: list[ContactRefInput]
    constant_contact_list_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Lists to put Constant Contact contacts back on (required for them)."
    )
    get_response_campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="Campaign to re-add GetResponse contacts to (default: where they were)."
    )
    consent_override: ConsentOverrideInput | None = None
    dry_run: bool = strawberry.field(default=False, description="Check everything, change nothing.")
    wait_for_completion: bool = False
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a request with a key used before (same input, within 24 h) gets the "
        "first result back and changes nothing; the same key with other input is refused.",
    )

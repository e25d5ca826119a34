"""deleteContacts and restoreContacts: GraphQL input to core references, core reports to payloads.

What the mutations do is :class:`gateway.core.actions.ContactActions`'s; this module only reads the
input (a global id is decoded here, its provider and local id handed on) and writes the payload.
Problems with the input never fail the whole mutation: each becomes a ``userErrors`` entry (with the
path of the offending input) and, where a contact was concerned, a result with status SKIPPED or
FAILED, while the other contacts are processed.
"""

from __future__ import annotations

from collections.abc import Callable

import strawberry

from gateway.core import model
from gateway.core.actions import DeleteRequest, MutationReport, RestoreRequest
from gateway.core.input_limits import InputLimits
from gateway.core.ports import OperationOutcome, OutcomeStatus, RestoreOptions, Target
from gateway.core.principals import Scope
from gateway.core.references import InputProblem, InputSubject, Reference
from gateway.errors import Forbidden, GatewayError, UserInputError

from .context import Info
from .inputs import ContactRefInput, DeleteContactsInput, RestoreContactsInput, contact_key_from_global_id
from .permissions import requires
from .types import BulkOperation, DeletedContact, contact_type

__all__ = ["Mutation"]


@strawberry.type(description="A problem with the input or with one contact; the rest was still processed.")
class UserError:
    code: str
    message: str
    field: list[str] = strawberry.field(description="Path of the input that caused it.")
    index: int | None = strawberry.field(description="Index in `input.contacts`, where it concerns one.")


@strawberry.type
class ContactMutationResult:
    index: int = strawberry.field(description="Index in `input.contacts`.")
    provider: model.Provider
    contact_id: str | None
    email: str | None
    status: OutcomeStatus
    code: str | None
    message: str | None
    bulk_operation: BulkOperation | None
    contact: DeletedContact | None = strawberry.field(description="The deleted record acted on, if known.")


@strawberry.type
class ContactsMutationPayload:
    results: list[ContactMutationResult]
    user_errors: list[UserError]
    bulk_operations: list[BulkOperation] = strawberry.field(description="Distinct bulk operations started.")


def _reference(index: int, ref: ContactRefInput) -> Reference:
    """What one input item names, or why it cannot be read (its contents are checked in core)."""
    try:
        if ref.id is not None:
            if ref.contact_id is not None or ref.email is not None:
                raise GatewayError("give `id` alone, or `provider` with `contactId` or `email`")
            key = contact_key_from_global_id(ref.id)
            return Target(index, key.provider, contact_id=key.contact_id)
        if ref.provider is None:
            raise GatewayError("`provider` is required with `contactId` or `email`")
        if (ref.contact_id is None) == (ref.email is None):
            raise GatewayError("give exactly one of `contactId` and `email` with `provider`")
        return Target(index, ref.provider, contact_id=ref.contact_id, email=ref.email)
    except GatewayError as error:
        code = error.code if error.code != GatewayError.code else "BAD_USER_INPUT"
        return InputProblem.of_contact(index, error.message, code)


def _references(refs: list[ContactRefInput]) -> tuple[Reference, ...]:
    return tuple(_reference(index, ref) for index, ref in enumerate(refs))


def _field(problem: InputProblem) -> list[str]:
    if problem.subject is InputSubject.CONTACT:
        return ["input", "contacts", str(problem.index)]
    if problem.subject is InputSubject.OVERRIDE_REASON:
        return ["input", "consentOverride", "reason"]
    return ["input", "contacts"]


def _payload(report: MutationReport) -> ContactsMutationPayload:
    user_errors = [
        UserError(code=p.code, message=p.message, field=_field(p), index=p.index) for p in report.problems
    ]
    results: list[ContactMutationResult] = []
    bulk: dict[str, BulkOperation] = {}
    for outcome in report.outcomes:
        operation = BulkOperation.from_progress(outcome.bulk_operation) if outcome.bulk_operation else None
        if operation is not None:
            bulk.setdefault(operation.operation_id, operation)
        results.append(_result(outcome, operation))
        if outcome.status in (OutcomeStatus.FAILED, OutcomeStatus.SKIPPED) and outcome.code != "DRY_RUN":
            user_errors.append(
                UserError(
                    code=outcome.code or "FAILED",
                    message=outcome.message or "",
                    field=["input", "contacts", str(outcome.target.index)],
                    index=outcome.target.index,
                )
            )
    user_errors.sort(key=lambda e: e.index if e.index is not None else -1)
    return ContactsMutationPayload(
        results=results, user_errors=user_errors, bulk_operations=list(bulk.values())
    )


def _result(outcome: OperationOutcome, operation: BulkOperation | None) -> ContactMutationResult:
    return ContactMutationResult(
        index=outcome.target.index,
        provider=outcome.target.provider,
        contact_id=outcome.contact_id,
        email=outcome.email,
        status=outcome.status,
        code=outcome.code,
        message=outcome.message,
        bulk_operation=operation,
        contact=contact_type(outcome.contact) if outcome.contact else None,
    )


def _out_of_bounds(limits: InputLimits, input: RestoreContactsInput) -> ContactsMutationPayload | None:
    """A restore-wide value (list ids, campaign id, override reason) out of its bounds: the whole
    mutation is refused before anything is resolved or changed.  Each reference's own values are
    core's to check, per item (``ContactActions``), so one bad contact does not stop the others."""
    problems: list[UserError] = []

    def check(field: list[str], run: Callable[[], object]) -> None:
        try:
            run()
        except UserInputError as error:
            problems.append(UserError(code=error.code, message=error.message, field=field, index=None))

    list_ids = input.constant_contact_list_ids or []
    check(
        ["input", "constantContactListIds"],
        lambda: limits.provider_ids(list_ids, "input.constantContactListIds"),
    )
    campaign_id = input.get_response_campaign_id
    if campaign_id is not None:
        check(
            ["input", "getResponseCampaignId"],
            lambda: limits.provider_id(campaign_id, "input.getResponseCampaignId"),
        )
    if input.consent_override is not None:
        reason = input.consent_override.reason
        check(
            ["input", "consentOverride", "reason"],
            lambda: limits.check_text(reason, limits.max_reason_length, "input.consentOverride.reason"),
        )
    if not problems:
        return None
    return ContactsMutationPayload(results=[], bulk_operations=[], user_errors=problems)


def _delete_request(input: DeleteContactsInput) -> DeleteRequest:
    return DeleteRequest(
        references=_references(input.contacts),
        wait_for_completion=input.wait_for_completion,
        dry_run=input.dry_run,
        idempotency_key=input.idempotency_key,
    )


def _restore_request(input: RestoreContactsInput) -> RestoreRequest:
    options = RestoreOptions(
        constant_contact_list_ids=tuple(str(i) for i in input.constant_contact_list_ids or ()),
        getresponse_campaign_id=str(input.get_response_campaign_id)
        if input.get_response_campaign_id
        else None,
        dry_run=input.dry_run,
        wait_for_completion=input.wait_for_completion,
    )
    return RestoreRequest(
        references=_references(input.contacts),
        options=options,
        override_reason=input.consent_override.reason if input.consent_override else None,
        idempotency_key=input.idempotency_key,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Delete contacts; several at one provider go through its bulk path. Every reference "
        "is checked before any provider is asked, and every contact found is checked against it.",
        extensions=requires(Scope.CONTACTS_DELETE),
    )
    async def delete_contacts(self, info: Info, input: DeleteContactsInput) -> ContactsMutationPayload | None:
        context = info.context
        report = await context.services.actions.delete(_delete_request(input), caller=context.caller)
        return _payload(report)

    @strawberry.mutation(
        description="Bring deleted contacts back. Constant Contact needs target lists; "
        "GetResponse re-adds to the campaign of the deletion unless another is given. "
        "Contacts whose deletion means withdrawn consent, or whose address complained or was "
        "blacklisted at any provider, are skipped (CONSENT_REQUIRED; CONSENT_UNVERIFIED when a "
        "provider could not be checked) unless consentOverride states why (scope consent:override).",
        extensions=requires(Scope.CONTACTS_RESTORE),
    )
    async def restore_contacts(
        self, info: Info, input: RestoreContactsInput
    ) -> ContactsMutationPayload | None:
        context = info.context
        if input.consent_override is not None and not context.principal.allows(Scope.CONSENT_OVERRIDE):
            # Refused whole, before anything is resolved: the caller asked for an override it may not
            # make, and restoring only the unblocked contacts would be a different request.
            raise Forbidden(Scope.CONSENT_OVERRIDE, "consentOverride")
        if (refused := _out_of_bounds(context.services.limits, input)) is not None:
            return refused
        report = await context.services.actions.restore(_restore_request(input), caller=context.caller)
        return _payload(report)

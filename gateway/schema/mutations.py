"""deleteContacts and restoreContacts: resolve what the caller named, gate, act, report per contact.

Problems with the input never fail the whole mutation: each becomes a ``userErrors`` entry (with the
path of the offending input) and a result with status SKIPPED or FAILED, while the other contacts are
processed.  With an ``idempotencyKey`` a retried request gets the first result again instead of acting
twice (``gateway.core.idempotency``, ``replay``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from functools import partial

import orjson
import strawberry

from gateway.core import actions, model
from gateway.core.input_limits import InputLimits
from gateway.core.ports import OperationOutcome, OutcomeStatus, RestoreOptions, Target
from gateway.errors import GatewayError, UserInputError

from . import replay
from .context import Info
from .inputs import ContactRefInput, DeleteContactsInput, RestoreContactsInput, contact_key_from_global_id
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


def _targets(
    refs: list[ContactRefInput], configured: set[model.Provider]
) -> tuple[list[Target], list[UserError]]:
    targets: list[Target] = []
    errors: list[UserError] = []
    for index, ref in enumerate(refs):
        field = ["input", "contacts", str(index)]
        try:
            if ref.id is not None:
                if ref.contact_id is not None or ref.email is not None:
                    raise GatewayError("give `id` alone, or `provider` with `contactId` or `email`")
                key = contact_key_from_global_id(ref.id)
                target = Target(index, key.provider, contact_id=key.contact_id)
            elif ref.provider is None:
                raise GatewayError("`provider` is required with `contactId` or `email`")
            elif (ref.contact_id is None) == (ref.email is None):
                raise GatewayError("give exactly one of `contactId` and `email` with `provider`")
            else:
                target = Target(index, ref.provider, contact_id=ref.contact_id, email=ref.email)
        except GatewayError as error:
            code = error.code if error.code != GatewayError.code else "BAD_USER_INPUT"
            errors.append(UserError(code=code, message=error.message, field=field, index=index))
            continue
        if target.provider not in configured:
            errors.append(
                UserError(
                    code="PROVIDER_NOT_CONFIGURED",
                    index=index,
                    field=field,
                    message=f"{target.provider.name} is not configured on this gateway",
                )
            )
            continue
        targets.append(target)
    return targets, errors


def _payload(outcomes: list[OperationOutcome], user_errors: list[UserError]) -> ContactsMutationPayload:
    results: list[ContactMutationResult] = []
    bulk: dict[str, BulkOperation] = {}
    for outcome in outcomes:
        operation = BulkOperation.from_progress(outcome.bulk_operation) if outcome.bulk_operation else None
        if operation is not None:
            bulk.setdefault(operation.operation_id, operation)
        results.append(
            ContactMutationResult(
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
        )
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


def _out_of_bounds(
    limits: InputLimits, input: DeleteContactsInput | RestoreContactsInput
) -> ContactsMutationPayload | None:
    """Too many contacts, or any value longer than its limit: the whole mutation is refused before
    anything is resolved or changed (an oversized value is a malformed request, not one bad contact)."""
    problems: list[UserError] = []

    def check(field: list[str], index: int | None, run: Callable[[], object]) -> None:
        try:
            run()
        except UserInputError as error:
            problems.append(UserError(code=error.code, message=error.message, field=field, index=index))

    refs = input.contacts
    check(
        ["input", "contacts"],
        None,
        lambda: limits.check_count(refs, limits.max_contacts_per_mutation, "input.contacts", "contacts"),
    )
    if problems:
        return ContactsMutationPayload(results=[], bulk_operations=[], user_errors=problems)
    for index, ref in enumerate(refs):
        for name, value, limit in (
            ("id", ref.id, limits.max_global_id_length),
            ("contactId", ref.contact_id, limits.max_id_length),
            ("email", ref.email, limits.max_email_length),
        ):
            if value is not None:
                field = ["input", "contacts", str(index), name]
                check(field, index, partial(limits.check_text, value, limit, ".".join(field)))
    if isinstance(input, RestoreContactsInput):
        list_ids = input.constant_contact_list_ids or []
        check(
            ["input", "constantContactListIds"],
            None,
            lambda: limits.provider_ids(list_ids, "input.constantContactListIds"),
        )
        campaign_id = input.get_response_campaign_id
        if campaign_id is not None:
            check(
                ["input", "getResponseCampaignId"],
                None,
                lambda: limits.provider_id(campaign_id, "input.getResponseCampaignId"),
            )
        if input.consent_override is not None:
            reason = input.consent_override.reason
            check(
                ["input", "consentOverride", "reason"],
                None,
                lambda: limits.check_text(reason, limits.max_reason_length, "input.consentOverride.reason"),
            )
    if not problems:
        return None
    return ContactsMutationPayload(results=[], bulk_operations=[], user_errors=problems)


async def _resolve_deleted(
    info: Info, targets: list[Target]
) -> tuple[list[tuple[Target, model.DeletedContact]], list[OperationOutcome]]:
    """Find the deleted record each target names (by id, or every record of an email at its provider)."""
    loaders = info.context.loaders

    async def find(target: Target) -> list[model.DeletedContact]:
        if target.contact_id is not None:
            found = await loaders.contacts.load(model.ContactKey(target.provider, target.contact_id))
            return [found] if found is not None else []
        records: list[model.DeletedContact] = await loaders.emails[target.provider].load(target.email or "")
        return records

    answers = await asyncio.gather(*(find(t) for t in targets), return_exceptions=True)
    pairs: list[tuple[Target, model.DeletedContact]] = []
    missing: list[OperationOutcome] = []
    for target, answer in zip(targets, answers, strict=True):
        if isinstance(answer, GatewayError):
            missing.append(
                OperationOutcome(
                    target, OutcomeStatus.FAILED, target.contact_id, target.email, answer.message, answer.code
                )
            )
        elif isinstance(answer, BaseException):
            raise answer
        elif not answer:
            missing.append(
                OperationOutcome(
                    target,
                    OutcomeStatus.SKIPPED,
                    target.contact_id,
                    target.email,
                    "no deleted contact matches",
                    "NOT_FOUND",
                )
            )
        else:
            pairs.extend((target, contact) for contact in answer)
    return pairs, missing


def _forget_listings(info: Info, targets: list[Target]) -> None:
    """A listing fetched before this mutation must not answer a first page asked after it."""
    for provider in {target.provider for target in targets}:
        info.context.services.listings.invalidate(provider)


async def _suppression_evidence(
    info: Info, contacts: list[model.DeletedContact]
) -> tuple[dict[str, list[model.DeletedContact]], dict[model.Provider, GatewayError]]:
    """Every deleted record of each address at the providers that record reasons (only they can hold
    a complaint or blacklisting): one batched lookup per such provider."""
    if not contacts:
        return {}, {}
    loaders = info.context.loaders
    emails = list(dict.fromkeys(c.email.lower() for c in contacts))
    asked = [provider for provider in info.context.services.ports if provider.records_reasons]
    found = await loaders.load_by_email(emails, asked)
    unverified = {p: error for p, error in loaders.email_errors.items() if p in asked}
    return dict(zip(emails, found, strict=True)), unverified


async def _delete(info: Info, input: DeleteContactsInput) -> tuple[list[OperationOutcome], list[UserError]]:
    services = info.context.services
    targets, user_errors = _targets(input.contacts, set(services.ports))
    outcomes = await actions.delete_targets(services.ports, targets, wait=input.wait_for_completion)
    _forget_listings(info, targets)
    return outcomes, user_errors


async def _restore(info: Info, input: RestoreContactsInput) -> tuple[list[OperationOutcome], list[UserError]]:
    services = info.context.services
    targets, user_errors = _targets(input.contacts, set(services.ports))
    override = input.consent_override.reason.strip() if input.consent_override else None
    if override is not None and len(override) < actions.MIN_OVERRIDE_REASON_LENGTH:
        user_errors.append(
            UserError(
                code="BAD_USER_INPUT",
                field=["input", "consentOverride", "reason"],
                index=None,
                message="the override reason must be at least "
                f"{actions.MIN_OVERRIDE_REASON_LENGTH} characters",
            )
        )
        return [], user_errors
    pairs, outcomes = await _resolve_deleted(info, targets)
    evidence, unverified = await _suppression_evidence(info, [c for _, c in pairs])
    gate = actions.consent_gate(
        pairs, override, request_id=info.context.request_id, evidence=evidence, unverified=unverified
    )
    options = RestoreOptions(
        constant_contact_list_ids=tuple(str(i) for i in input.constant_contact_list_ids or ()),
        getresponse_campaign_id=str(input.get_response_campaign_id)
        if input.get_response_campaign_id
        else None,
        dry_run=input.dry_run,
        wait_for_completion=input.wait_for_completion,
    )
    outcomes += gate.blocked
    outcomes += await actions.restore_targets(services.ports, gate.allowed, options)
    _forget_listings(info, [target for target, _ in gate.allowed])
    outcomes.sort(key=lambda o: o.target.index)
    return outcomes, user_errors


async def _once(
    info: Info,
    mutation: str,
    input: DeleteContactsInput | RestoreContactsInput,
    run: Callable[[], Awaitable[tuple[list[OperationOutcome], list[UserError]]]],
) -> ContactsMutationPayload:
    """Run the mutation, or, for an ``idempotencyKey`` seen before with the same input, replay its result."""
    key = input.idempotency_key
    if key is None:
        return _payload(*await run())
    services = info.context.services
    longest = services.limits.max_idempotency_key_length
    if not 1 <= len(key) <= longest:
        raise UserInputError(f"idempotencyKey must have 1 to {longest} characters")
    scoped = f"{mutation}:{key}"
    fingerprint = hashlib.sha256(orjson.dumps(input, option=orjson.OPT_SORT_KEYS)).hexdigest()
    recorded = await services.idempotency.claim(scoped, fingerprint)
    if recorded is not None:
        outcomes, problems = replay.decode(recorded, services.ports)
        return _payload(outcomes, [UserError(**problem) for problem in problems])
    try:
        outcomes, user_errors = await run()
    except BaseException:
        await services.idempotency.release(scoped)  # nothing to replay: a retry must run again
        raise
    await services.idempotency.complete(
        scoped, fingerprint, replay.encode(outcomes, user_errors, services.ports)
    )
    return _payload(outcomes, user_errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Delete contacts; several at one provider go through its bulk path.")
    async def delete_contacts(self, info: Info, input: DeleteContactsInput) -> ContactsMutationPayload:
        if (refused := _out_of_bounds(info.context.services.limits, input)) is not None:
            return refused
        return await _once(info, "deleteContacts", input, lambda: _delete(info, input))

    @strawberry.mutation(
        description="Bring deleted contacts back. Constant Contact needs target lists; "
        "GetResponse re-adds to the campaign of the deletion unless another is given. "
        "Contacts whose deletion means withdrawn consent, or whose address complained or was "
        "blacklisted at any provider, are skipped (CONSENT_REQUIRED; CONSENT_UNVERIFIED when a "
        "provider could not be checked) unless consentOverride states why."
    )
    async def restore_contacts(self, info: Info, input: RestoreContactsInput) -> ContactsMutationPayload:
        if (refused := _out_of_bounds(info.context.services.limits, input)) is not None:
            return refused
        return await _once(info, "restoreContacts", input, lambda: _restore(info, input))

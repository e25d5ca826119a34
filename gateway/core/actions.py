"""Delete and restore, provider-neutral: the consent gate, and fanning targets out to their providers.

Each provider gets all of its targets in one call, so the adapter can use its bulk path (a Constant
Contact activity, a GetResponse JSON-RPC batch).  Providers run concurrently; a provider that fails as
a whole turns into a FAILED outcome for each of its targets, never into a lost answer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import GatewayError

from .consent import suppression_block
from .gathering import gather_settled
from .model import DeletedContact, Provider
from .ports import DeletedContactsPort, OperationOutcome, OutcomeStatus, RestoreOptions, Target

__all__ = ["MIN_OVERRIDE_REASON_LENGTH", "consent_gate", "delete_targets", "restore_targets"]

audit = logging.getLogger("gateway.audit")

MIN_OVERRIDE_REASON_LENGTH = 10


def _failed_all(targets: Sequence[Target], error: GatewayError) -> list[OperationOutcome]:
    return [OperationOutcome.failed(target, error) for target in targets]


async def delete_targets(
    ports: Mapping[Provider, DeletedContactsPort], targets: Sequence[Target], *, wait: bool = False
) -> list[OperationOutcome]:
    grouped: dict[Provider, list[Target]] = defaultdict(list)
    for target in targets:
        grouped[target.provider].append(target)

    async def run(provider: Provider, group: list[Target]) -> list[OperationOutcome]:
        try:
            return await ports[provider].delete(group, wait=wait)
        except GatewayError as error:
            return _failed_all(group, error)

    answers = await gather_settled(run(p, g) for p, g in grouped.items())
    return sorted((o for answer in answers for o in answer), key=lambda o: o.target.index)


@dataclass(frozen=True, slots=True)
class GateResult:
    allowed: list[tuple[Target, DeletedContact]]
    blocked: list[OperationOutcome]


def _block(
    contact: DeletedContact,
    evidence: Mapping[str, Sequence[DeletedContact]],
    unverified: Mapping[Provider, GatewayError],
) -> tuple[str, str] | None:
    """(code, why) when restoring ``contact`` needs a consent override, else None."""
    if contact.restore_blocked_by is not None:
        return "CONSENT_REQUIRED", contact.restore_blocked_by
    suppressed = suppression_block(contact, evidence.get(contact.email.lower(), ()))
    if suppressed is not None:
        return "CONSENT_REQUIRED", suppressed
    if unverified:
        # Fail closed: a complaint we could not read is still a complaint.
        failed = ", ".join(f"{p.name} ({e.code})" for p, e in unverified.items())
        return "CONSENT_UNVERIFIED", f"the suppression list could not be checked at {failed}"
    return None


def consent_gate(
    pairs: Sequence[tuple[Target, DeletedContact]],
    override_reason: str | None,
    *,
    request_id: str,
    evidence: Mapping[str, Sequence[DeletedContact]] | None = None,
    unverified: Mapping[Provider, GatewayError] | None = None,
) -> GateResult:
    """Hold back contacts whose restore needs consent, unless an override reason is given.

    A restore is held back when the record itself says the person withdrew consent, when ``evidence``
    (every deleted record of the address at every provider, keyed by lower-cased email) holds a
    complaint or blacklisting of the same address anywhere, or when a provider could not be asked for
    that evidence (``unverified``).  Every override is written to the ``gateway.audit`` log with the
    request id, contact and reason.
    """
    allowed: list[tuple[Target, DeletedContact]] = []
    blocked: list[OperationOutcome] = []
    for target, contact in pairs:
        block = _block(contact, evidence or {}, unverified or {})
        if block is None:
            allowed.append((target, contact))
            continue
        code, why = block
        if override_reason is not None:
            audit.warning(
                "consent override request_id=%s provider=%s contact_id=%s blocked_by=%r reason=%r",
                request_id,
                contact.provider.value,
                contact.contact_id,
                why,
                override_reason,
            )
            allowed.append((target, contact))
        else:
            blocked.append(
                OperationOutcome(
                    target,
                    OutcomeStatus.SKIPPED,
                    contact.contact_id,
                    contact.email,
                    f"not restored: {why}; pass consentOverride with a reason to proceed",
                    code,
                    contact=contact,
                )
            )
    return GateResult(allowed, blocked)


async def restore_targets(
    ports: Mapping[Provider, DeletedContactsPort],
    pairs: Sequence[tuple[Target, DeletedContact]],
    options: RestoreOptions,
) -> list[OperationOutcome]:
    grouped: dict[Provider, list[tuple[Target, DeletedContact]]] = defaultdict(list)
    for target, contact in pairs:
        grouped[contact.provider].append((target, contact))

    async def run(provider: Provider, group: list[tuple[Target, DeletedContact]]) -> list[OperationOutcome]:
        if options.dry_run:
            return [
                OperationOutcome(
                    t,
                    OutcomeStatus.SKIPPED,
                    c.contact_id,
                    c.email,
                    "dry run: would be restored",
                    "DRY_RUN",
                    contact=c,
                )
                for t, c in group
            ]
        try:
            return await ports[provider].restore(group, options)
        except GatewayError as error:
            return _failed_all([t for t, _ in group], error)

    answers = await gather_settled(run(p, g) for p, g in grouped.items())
    return sorted((o for answer in answers for o in answer), key=lambda o: o.target.index)

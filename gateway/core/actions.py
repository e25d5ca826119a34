"""Delete and restore, provider-neutral: the consent gate, and fanning targets out to their providers.

Each provider gets all of its targets in one call, so the adapter can use its bulk path (a Constant
Contact activity, a GetResponse JSON-RPC batch).  Providers run concurrently; a provider that fails as
a whole turns into a FAILED outcome for each of its targets, never into a lost answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import GatewayError

from .model import DeletedContact, Provider
from .ports import DeletedContactsPort, OperationOutcome, OutcomeStatus, RestoreOptions, Target

__all__ = ["MIN_OVERRIDE_REASON_LENGTH", "consent_gate", "delete_targets", "restore_targets"]

audit = logging.getLogger("gateway.audit")

MIN_OVERRIDE_REASON_LENGTH = 10


def _failed_all(targets: Sequence[Target], error: GatewayError) -> list[OperationOutcome]:
    return [
        OperationOutcome(t, OutcomeStatus.FAILED, t.contact_id, t.email, error.message, error.code)
        for t in targets
    ]


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

    answers = await asyncio.gather(*(run(p, g) for p, g in grouped.items()))
    return sorted((o for answer in answers for o in answer), key=lambda o: o.target.index)


@dataclass(frozen=True, slots=True)
class GateResult:
    allowed: list[tuple[Target, DeletedContact]]
    blocked: list[OperationOutcome]


def consent_gate(
    pairs: Sequence[tuple[Target, DeletedContact]], override_reason: str | None, *, request_id: str
) -> GateResult:
    """Hold back contacts whose deletion means withdrawn consent, unless an override reason is given.

    Every override is written to the ``gateway.audit`` log with the request id, contact and reason.
    """
    allowed: list[tuple[Target, DeletedContact]] = []
    blocked: list[OperationOutcome] = []
    for target, contact in pairs:
        if contact.restorable:
            allowed.append((target, contact))
        elif override_reason is not None:
            audit.warning(
                "consent override request_id=%s provider=%s contact_id=%s blocked_by=%r reason=%r",
                request_id,
                contact.provider.value,
                contact.contact_id,
                contact.restore_blocked_by,
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
                    f"not restored: {contact.restore_blocked_by}; "
                    "pass consentOverride with a reason to proceed",
                    "CONSENT_REQUIRED",
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

    answers = await asyncio.gather(*(run(p, g) for p, g in grouped.items()))
    return sorted((o for answer in answers for o in answer), key=lambda o: o.target.index)

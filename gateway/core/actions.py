"""Delete and restore, provider-neutral: a mutation acts only on what its caller named.

:class:`ContactActions` runs both mutations, in the same steps:

1. **Admit** each reference (:mod:`gateway.core.references`): the provider is configured, the id has
   the provider's form or the address is an address.  A bad one is an input problem on its item; the
   other items go on.  Nothing has been sent to a provider yet.
2. **Resolve** the references to contacts: a delete asks each provider for the active contacts
   (``resolve_active``), a restore reads the deleted records (:class:`ContactLookups`).
3. **Check** every resolved contact against its reference (the same id; the same address, compared
   case-insensitively); one that does not match is dropped and never acted on.
4. **Guard the blast radius**: a reference by id names one contact, a reference by address one
   contact per scope of its provider (one per campaign at GetResponse, one per account at Constant
   Contact).  If any reference resolved to more, the provider answered something other than what was
   asked, and the whole mutation is refused (:class:`~gateway.errors.BlastRadiusExceeded`) before its
   first write, and logged.
5. **Act**: the consent gate for restores, then each provider gets all of its contacts in one call
   (its bulk path); a contact named twice is acted on once.  A dry run stops before this step.
   Providers run concurrently; a provider that fails as a whole turns into a FAILED outcome for each of
   its contacts, never into a lost answer.  Listings fetched before the write are forgotten.

With an idempotency key the whole run happens once: a retry with the same input gets the recorded
report back (:mod:`gateway.core.replay`, :mod:`gateway.core.idempotency`).  Keys belong to the
caller's principal: the same key sent by two principals names two independent runs.

Every item leaves an audit event (:mod:`gateway.core.audit`).  The contacts about to be written get
an intent event before step 5 writes anything; if it cannot be recorded the mutation stops there
(``DATABASE_ERROR``), with nothing sent.  Every item's outcome is recorded after the run, in one write.
A replayed answer is recorded too, one event per contact marked as a replay.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import orjson

from gateway.errors import BlastRadiusExceeded, DatabaseError, GatewayError, UserInputError

from . import replay
from .audit import (
    AuditEvent,
    MutationContext,
    OverrideKey,
    failure_events,
    intent_events,
    outcome_events,
)
from .consent import suppression_block
from .gathering import gather_settled
from .input_limits import InputLimits
from .lookups import ContactLookups
from .model import ContactKey, DeletedContact, Provider
from .ports import (
    DeletedContactsPort,
    OperationOutcome,
    OutcomeStatus,
    ResolvedContact,
    RestoreOptions,
    Target,
)
from .principals import Caller
from .references import InputProblem, InputSubject, Reference, holds_address, reference_problem
from .shared_listings import SharedListings
from .store_ports import AuditTrail, PrincipalIdempotencyStore

__all__ = [
    "ContactActions",
    "DeleteRequest",
    "GateResult",
    "MutationReport",
    "RestoreRequest",
    "consent_gate",
]

audit = logging.getLogger("gateway.audit")
logger = logging.getLogger("gateway.actions")


@dataclass(frozen=True, slots=True)
class DeleteRequest:
    references: tuple[Reference, ...]
    wait_for_completion: bool = False
    dry_run: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class RestoreRequest:
    references: tuple[Reference, ...]
    options: RestoreOptions = field(default_factory=RestoreOptions)
    override_reason: str | None = None
    """Why consent blocks are overridden (audited); None: blocked contacts are skipped."""
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class MutationReport:
    outcomes: list[OperationOutcome]
    """One per contact acted on or skipped, in input order."""
    problems: list[InputProblem]
    """Input that was not acted on, and why."""
    overridden: frozenset[OverrideKey] = frozenset()
    """The contacts a consent override let through (audited with the override's reason)."""


def _failed_all(targets: Sequence[Target], error: GatewayError) -> list[OperationOutcome]:
    return [OperationOutcome.failed(target, error) for target in targets]


def _names(target: Target, contact_id: str, email: str | None) -> bool:
    """Whether a resolved contact is the one ``target`` names."""
    if target.contact_id is not None:
        return contact_id == target.contact_id
    return holds_address(email, target.email)


def _not_found(target: Target, message: str) -> OperationOutcome:
    return OperationOutcome(
        target, OutcomeStatus.SKIPPED, target.contact_id, target.email, message, "NOT_FOUND"
    )


def _guard_blast_radius(
    found: Sequence[tuple[Target, str, str | None]], *, mutation: str, request_id: str
) -> None:
    """Refuse the whole mutation when a reference resolved to more contacts than it can name.

    ``found`` holds (target, contact id, scope) for everything about to be acted on.  An id names one
    contact; an address names at most one contact per scope.
    """
    by_target: dict[int, tuple[Target, dict[str, str | None]]] = {}
    for target, contact_id, scope in found:
        by_target.setdefault(target.index, (target, {}))[1][contact_id] = scope
    for index, (target, contacts) in sorted(by_target.items()):
        allowed = 1 if target.contact_id is not None else len(set(contacts.values()))
        if len(contacts) <= allowed:
            continue
        audit.error(
            "blast radius exceeded, mutation refused request_id=%s mutation=%s index=%d provider=%s "
            "resolved=%d allowed=%d",
            request_id,
            mutation,
            index,
            target.provider.value,
            len(contacts),
            allowed,
        )
        raise BlastRadiusExceeded(
            f"refused, nothing was changed: contact {index} ({target.provider.name}) resolved to "
            f"{len(contacts)} contacts where it can name at most {allowed}"
        )


class _MutationTrail:
    """One mutation's audit writes: the intents of the contacts about to be written, then every
    item's outcome."""

    def __init__(self, trail: AuditTrail, context: MutationContext, clock: Callable[[], datetime]) -> None:
        self._trail = trail
        self.context = context
        self._clock = clock
        self.intents: list[AuditEvent] = []

    @property
    def request_id(self) -> str:
        return self.context.caller.request_id

    async def intend(self, contacts: Sequence[tuple[Target, str]]) -> None:
        """Record that ``contacts`` are about to be written.  A failure (``DatabaseError``) propagates:
        a write that could not be announced must not happen."""
        events = intent_events(self.context, contacts, at=self._clock())
        if events:
            await self._trail.append(events)
            self.intents.extend(events)

    async def running(
        self, references: Sequence[Reference], run: Callable[[_MutationTrail], Awaitable[MutationReport]]
    ) -> MutationReport:
        try:
            return await run(self)
        except GatewayError as error:
            await self.failed(references, error)
            raise

    async def concluded(
        self, references: Sequence[Reference], report: MutationReport, *, replay: bool = False
    ) -> None:
        events = outcome_events(
            self.context, references, report, at=self._clock(), intents=self.intents, replay=replay
        )
        try:
            await self._trail.append(events)
        except DatabaseError:
            if not self.intents:
                raise  # nothing was written upstream: the caller retries once the database is back
            # Contacts were written and the caller must hear how; their intents, already recorded,
            # stay visible as UNKNOWN, which is the truth the trail can still tell.
            logger.error(
                "could not record the outcomes of %s request_id=%s; their intents show UNKNOWN",
                self.context.operation,
                self.request_id,
            )

    async def failed(self, references: Sequence[Reference], error: GatewayError) -> None:
        """The mutation failed as a whole: every item not yet announced for a write is recorded FAILED
        with ``error``'s code (an announced one keeps its UNKNOWN intent)."""
        if isinstance(error, DatabaseError):
            return  # the database is what failed: there is nothing to tell it
        events = failure_events(
            self.context,
            references,
            code=error.code,
            message=error.message,
            at=self._clock(),
            intents=self.intents,
        )
        try:
            await self._trail.append(events)
        except DatabaseError:
            logger.error(
                "could not record the failure of %s request_id=%s", self.context.operation, self.request_id
            )


class ContactActions:
    """deleteContacts and restoreContacts over the configured providers (see the module docstring)."""

    def __init__(
        self,
        ports: Mapping[Provider, DeletedContactsPort],
        listings: SharedListings,
        idempotency: PrincipalIdempotencyStore,
        limits: InputLimits,
        audit: AuditTrail,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        written: Callable[[set[Provider], datetime], Awaitable[None]] | None = None,
    ) -> None:
        """``written(providers, since)`` is awaited after contacts were written at ``providers`` (the
        synced index reads their changes since the moment before the writes: write-through)."""
        self._ports = ports
        self._written = written
        self._listings = listings
        self._idempotency = idempotency
        self._audit = audit
        self._clock = clock
        self.limits = limits

    # -- the two mutations ---------------------------------------------------------------------

    async def delete(self, request: DeleteRequest, *, caller: Caller) -> MutationReport:
        context = MutationContext(caller, "deleteContacts", request.idempotency_key, request.dry_run)
        return await self._guarded(context, request, lambda trail: self._delete(request, trail))

    async def restore(self, request: RestoreRequest, *, caller: Caller) -> MutationReport:
        context = MutationContext(
            caller,
            "restoreContacts",
            request.idempotency_key,
            request.options.dry_run,
            override_reason=request.override_reason,
        )
        return await self._guarded(context, request, lambda trail: self._restore(request, trail))

    # -- limits, idempotency and the audit trail -----------------------------------------------

    async def _guarded(
        self,
        context: MutationContext,
        request: DeleteRequest | RestoreRequest,
        run: Callable[[_MutationTrail], Awaitable[MutationReport]],
    ) -> MutationReport:
        """Refuse too many contacts; run once, or, for an idempotency key this principal sent before
        with the same input, replay the recorded report; record every item in the audit trail."""
        trail = _MutationTrail(self._audit, context, self._clock)
        references = request.references
        limit = self.limits.max_contacts_per_mutation
        if len(references) > limit:
            problem = InputProblem(
                "BAD_USER_INPUT", f"at most {limit} contacts per call", InputSubject.CONTACTS
            )
            report = MutationReport([], [problem])
            await trail.concluded(references, report)
            return report
        key = request.idempotency_key
        if key is None:
            report = await trail.running(references, run)
            await trail.concluded(references, report)
            return report
        longest = self.limits.max_idempotency_key_length
        if not 1 <= len(key) <= longest:
            error = UserInputError(f"idempotencyKey must have 1 to {longest} characters")
            await trail.failed(references, error)
            raise error
        # The principal's own view of the store: another principal's identical key is another record.
        store = self._idempotency.for_principal(context.caller.principal)
        scoped = f"{context.operation}:{key}"
        unkeyed = replace(request, idempotency_key=None)
        fingerprint = hashlib.sha256(orjson.dumps(unkeyed, option=orjson.OPT_SORT_KEYS)).hexdigest()
        try:
            recorded = await store.claim(scoped, fingerprint)
        except GatewayError as error:
            await trail.failed(references, error)
            raise
        if recorded is not None:
            outcomes, problems = replay.decode(recorded, self._ports)
            report = MutationReport(outcomes, problems)
            await trail.concluded(references, report, replay=True)
            return report
        try:
            report = await trail.running(references, run)
            await trail.concluded(references, report)
        except BaseException:
            await store.release(scoped)  # nothing to replay: a retry must run again
            raise
        recorded_report = replay.encode(report.outcomes, report.problems, self._ports)
        await store.complete(scoped, fingerprint, recorded_report)
        return report

    # -- admitting references ------------------------------------------------------------------

    def _admit(self, references: Sequence[Reference]) -> tuple[list[Target], list[InputProblem]]:
        """The references that can name a contact at a configured provider, and a problem for each
        of the others; nothing is sent anywhere."""
        forms = {provider: port.contact_id_form for provider, port in self._ports.items()}
        targets: list[Target] = []
        problems: list[InputProblem] = []
        for reference in references:
            if isinstance(reference, InputProblem):
                problems.append(reference)
            elif reference.provider not in forms:
                problems.append(
                    InputProblem.of_contact(
                        reference.index,
                        f"{reference.provider.name} is not configured on this gateway",
                        "PROVIDER_NOT_CONFIGURED",
                    )
                )
            elif (why := reference_problem(reference, forms)) is not None:
                problems.append(InputProblem.of_contact(reference.index, why))
            else:
                targets.append(reference)
        return targets, problems

    async def _after_writes(self, providers: set[Provider], since: datetime) -> None:
        """A listing fetched before this mutation must not answer a first page asked after it, and
        the index learns what was written before the mutation answers."""
        for provider in providers:
            self._listings.invalidate(provider)
        if self._written is not None and providers:
            await self._written(providers, since)

    # -- delete --------------------------------------------------------------------------------

    async def _delete(self, request: DeleteRequest, trail: _MutationTrail) -> MutationReport:
        targets, problems = self._admit(request.references)
        found, outcomes = await self._resolve_active(targets)
        kept: dict[tuple[int, str], ResolvedContact] = {}
        for contact in found:
            if self._kept(contact.target, contact.contact_id, contact.email):
                kept.setdefault((contact.target.index, contact.contact_id), contact)
        resolved = list(kept.values())
        answered = {o.target.index for o in outcomes} | {r.target.index for r in resolved}
        outcomes += [
            _not_found(t, "no active contact with this address") for t in targets if t.index not in answered
        ]
        _guard_blast_radius(
            [(r.target, r.contact_id, r.scope) for r in resolved],
            mutation="deleteContacts",
            request_id=trail.request_id,
        )
        if request.dry_run:
            outcomes += [
                OperationOutcome(
                    r.target,
                    OutcomeStatus.SKIPPED,
                    r.contact_id,
                    r.target.email,
                    # An id is not looked up before a delete, so a dry run cannot say it exists.
                    "dry run: would be deleted"
                    if r.email is not None
                    else "dry run: would be deleted if it exists (ids are not looked up)",
                    "DRY_RUN",
                )
                for r in resolved
            ]
        elif resolved:
            await trail.intend([(r.target, r.contact_id) for r in resolved])
            since = self._clock()
            outcomes += await self._write_deletes(resolved, request.wait_for_completion)
            await self._after_writes({r.target.provider for r in resolved}, since)
        outcomes.sort(key=lambda o: o.target.index)
        return MutationReport(outcomes, problems)

    async def _resolve_active(
        self, targets: Sequence[Target]
    ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
        grouped: dict[Provider, list[Target]] = defaultdict(list)
        for target in targets:
            grouped[target.provider].append(target)

        async def run(
            provider: Provider, group: list[Target]
        ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
            try:
                return await self._ports[provider].resolve_active(group)
            except GatewayError as error:
                return [], _failed_all(group, error)

        answers = await gather_settled(run(p, g) for p, g in grouped.items())
        resolved = [r for found, _ in answers for r in found]
        failed = [o for _, outcomes in answers for o in outcomes]
        return resolved, failed

    def _kept(self, target: Target, contact_id: str, email: str | None) -> bool:
        """Whether a resolved contact is the one its target names; one that is not is logged."""
        if _names(target, contact_id, email):
            return True
        logger.warning(
            "dropped a contact that does not match its reference index=%d provider=%s",
            target.index,
            target.provider.value,
        )
        return False

    async def _write_deletes(self, resolved: Sequence[ResolvedContact], wait: bool) -> list[OperationOutcome]:
        """Each distinct contact deleted once; a contact named by several references reports the
        same outcome for each."""
        first: dict[ContactKey, ResolvedContact] = {}
        for contact in resolved:
            first.setdefault(ContactKey(contact.target.provider, contact.contact_id), contact)
        grouped: dict[Provider, list[ResolvedContact]] = defaultdict(list)
        for contact in first.values():
            grouped[contact.target.provider].append(contact)

        async def run(provider: Provider, group: list[ResolvedContact]) -> list[OperationOutcome]:
            try:
                return await self._ports[provider].delete(group, wait=wait)
            except GatewayError as error:
                return [OperationOutcome.failed(c.target, error, c.contact_id) for c in group]

        answers = await gather_settled(run(p, g) for p, g in grouped.items())
        outcomes = [o for answer in answers for o in answer]
        by_contact = {(o.target.index, o.contact_id): o for o in outcomes}
        for contact in resolved:
            acted = first[ContactKey(contact.target.provider, contact.contact_id)]
            shared = by_contact.get((acted.target.index, contact.contact_id))
            if acted is not contact and shared is not None:
                outcomes.append(replace(shared, target=contact.target, email=contact.target.email))
        return outcomes

    # -- restore -------------------------------------------------------------------------------

    async def _restore(self, request: RestoreRequest, trail: _MutationTrail) -> MutationReport:
        targets, problems = self._admit(request.references)
        override = request.override_reason.strip() if request.override_reason is not None else None
        shortest = self.limits.min_reason_length
        if override is not None and len(override) < shortest:
            problems.append(
                InputProblem(
                    "BAD_USER_INPUT",
                    f"the override reason must be at least {shortest} characters",
                    InputSubject.OVERRIDE_REASON,
                )
            )
            return MutationReport([], problems)
        lookups = ContactLookups(self._ports)
        pairs, outcomes = await self._resolve_deleted(lookups, targets)
        _guard_blast_radius(
            [(t, c.contact_id, self._ports[c.provider].scope_of(c)) for t, c in pairs],
            mutation="restoreContacts",
            request_id=trail.request_id,
        )
        evidence, unverified = await self._suppression_evidence(lookups, [c for _, c in pairs])
        gate = consent_gate(
            pairs, override, request_id=trail.request_id, evidence=evidence, unverified=unverified
        )
        outcomes += gate.blocked
        if not request.options.dry_run:
            await trail.intend([(t, c.contact_id) for t, c in gate.allowed])
        since = self._clock()
        outcomes += await self._write_restores(gate.allowed, request.options)
        if not request.options.dry_run:
            await self._after_writes({contact.provider for _, contact in gate.allowed}, since)
        outcomes.sort(key=lambda o: o.target.index)
        return MutationReport(outcomes, problems, frozenset(gate.overridden))

    async def _resolve_deleted(
        self, lookups: ContactLookups, targets: Sequence[Target]
    ) -> tuple[list[tuple[Target, DeletedContact]], list[OperationOutcome]]:
        """The deleted records each target names (by id, or every record of an address at its
        provider), each checked against the target."""

        async def find(target: Target) -> list[DeletedContact]:
            if target.contact_id is not None:
                found = await lookups.contacts.load(ContactKey(target.provider, target.contact_id))
                return [found] if found is not None else []
            assert target.email is not None
            return list(await lookups.emails[target.provider].load(target.email))

        answers = await asyncio.gather(*(find(t) for t in targets), return_exceptions=True)
        pairs: list[tuple[Target, DeletedContact]] = []
        outcomes: list[OperationOutcome] = []
        for target, answer in zip(targets, answers, strict=True):
            if isinstance(answer, GatewayError):
                outcomes.append(OperationOutcome.failed(target, answer))
                continue
            if isinstance(answer, BaseException):
                raise answer
            named = [
                c
                for c in answer
                if c.provider is target.provider and self._kept(target, c.contact_id, c.email)
            ]
            if not named:
                outcomes.append(_not_found(target, "no deleted contact matches"))
            distinct: dict[str, DeletedContact] = {}
            for contact in named:
                distinct.setdefault(contact.contact_id, contact)
            pairs.extend((target, contact) for contact in distinct.values())
        return pairs, outcomes

    async def _suppression_evidence(
        self, lookups: ContactLookups, contacts: list[DeletedContact]
    ) -> tuple[dict[str, list[DeletedContact]], dict[Provider, GatewayError]]:
        """Every deleted record of each address at the providers that record reasons (only they can
        hold a complaint or blacklisting): one batched lookup per such provider."""
        if not contacts:
            return {}, {}
        emails = list(dict.fromkeys(c.email.lower() for c in contacts))
        asked = [provider for provider in self._ports if provider.records_reasons]
        found = await lookups.load_by_email(emails, asked)
        unverified = {p: error for p, error in lookups.email_errors.items() if p in asked}
        return dict(zip(emails, found, strict=True)), unverified

    async def _write_restores(
        self, pairs: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]:
        """Each distinct record restored once (or, in a dry run, reported); a record named by several
        references reports the same outcome for each."""
        first: dict[ContactKey, tuple[Target, DeletedContact]] = {}
        for target, contact in pairs:
            first.setdefault(contact.key, (target, contact))
        grouped: dict[Provider, list[tuple[Target, DeletedContact]]] = defaultdict(list)
        for target, contact in first.values():
            grouped[contact.provider].append((target, contact))

        async def run(
            provider: Provider, group: list[tuple[Target, DeletedContact]]
        ) -> list[OperationOutcome]:
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
                return await self._ports[provider].restore(group, options)
            except GatewayError as error:
                return _failed_all([t for t, _ in group], error)

        answers = await gather_settled(run(p, g) for p, g in grouped.items())
        outcomes = [o for answer in answers for o in answer]
        by_contact = {(o.target.index, o.contact_id): o for o in outcomes}
        for target, contact in pairs:
            acted_target, _ = first[contact.key]
            shared = by_contact.get((acted_target.index, contact.contact_id))
            if acted_target is not target and shared is not None:
                outcomes.append(replace(shared, target=target))
        return outcomes


@dataclass(frozen=True, slots=True)
class GateResult:
    allowed: list[tuple[Target, DeletedContact]]
    blocked: list[OperationOutcome]
    overridden: list[OverrideKey] = field(default_factory=list)
    """(input index, contact id) of the allowed contacts that only the override let through."""


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
    overridden: list[OverrideKey] = []
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
            overridden.append((target.index, contact.contact_id))
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
    return GateResult(allowed, blocked, overridden)

"""The audit trail of ContactActions: one event per item, intents before writes, failing closed.

Runs core over in-memory ports (``tests.schema.fakes``) and the memory trail; the database trail is
tested in ``tests/store/test_audit.py`` and the whole path over HTTP in ``tests/e2e/test_audit_trail.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gateway.core.actions import ContactActions, DeleteRequest, RestoreRequest
from gateway.core.audit import AuditCursor, AuditEvent, AuditFilter, AuditPhase, AuditStatus
from gateway.core.audit_memory import MemoryAuditTrail
from gateway.core.idempotency import MemoryIdempotencyStore
from gateway.core.input_limits import InputLimits
from gateway.core.model import DeletedContact, DeletionReason, Provider
from gateway.core.ports import OperationOutcome, ResolvedContact, RestoreOptions, Target
from gateway.core.principals import Caller, Principal, PrincipalKind, Scope
from gateway.core.references import InputProblem, Reference
from gateway.core.shared_listings import SharedListings
from gateway.errors import BlastRadiusExceeded, DatabaseError, GatewayError

from ..schema.fakes import FakePort, fake_id, make_contact

GR, CC = Provider.GETRESPONSE, Provider.CONSTANT_CONTACT
KEY = Principal(PrincipalKind.KEY, "k-1", "crm-sync", frozenset(Scope))
TOKEN = Principal(PrincipalKind.TOKEN, "https://issuer.example user-7", "user-7", frozenset(Scope))
CALLER = Caller(KEY, "req-1", "corr-1")
REASON = "signed consent form, ticket 4411"


class UpstreamDown(GatewayError):
    code = "UPSTREAM_DOWN"


class RefusingWrites(FakePort):
    """Reads answer; every write fails as a whole."""

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        self.calls.append("delete")
        raise UpstreamDown("the provider refused the write")

    async def restore(
        self, contacts: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]:
        self.calls.append("restore")
        raise UpstreamDown("the provider refused the write")


class WatchingWrites(FakePort):
    """Writes as FakePort does, after noting what the audit trail held at that moment."""

    def __init__(
        self, provider: Provider, contacts: Sequence[DeletedContact], trail: MemoryAuditTrail
    ) -> None:
        super().__init__(provider, contacts)
        self.trail = trail
        self.seen_at_write: list[AuditEvent] = []

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        self.seen_at_write = list(self.trail.rows)
        return await super().delete(contacts, wait=wait)


class DyingMidWrite(FakePort):
    """The process stops during the upstream write (an error no code expects)."""

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        raise RuntimeError("the process died mid-write")


class BrokenTrail(MemoryAuditTrail):
    """A trail whose database is down from the ``fail_from``-th write on."""

    def __init__(self, fail_from: int = 0) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.writes = 0

    async def append(self, events: Sequence[AuditEvent]) -> None:
        self.writes += 1
        if self.writes > self.fail_from:
            raise DatabaseError("the gateway's database is unavailable; try again shortly")
        await super().append(events)


def gr_contacts() -> list[DeletedContact]:
    return [
        make_contact(GR, 1),
        make_contact(GR, 3),
        make_contact(GR, 99, reason=DeletionReason.COMPLAINT, blocked="the person reported a spam complaint"),
    ]


def actions_over(
    ports: dict[Provider, FakePort], trail: MemoryAuditTrail, *, limits: InputLimits | None = None
) -> ContactActions:
    return ContactActions(ports, SharedListings(), MemoryIdempotencyStore(), limits or InputLimits(), trail)


def by_index(trail: MemoryAuditTrail) -> dict[int | None, AuditEvent]:
    visible = trail.visible()
    events = {e.item_index: e for e in visible}
    assert len(events) == len(visible), "an item has more than one visible event"
    return events


def gr(index: int, n: int) -> Target:
    return Target(index, GR, fake_id(GR, n))


async def test_every_item_of_a_mixed_restore_has_one_event_with_its_outcome() -> None:
    trail = MemoryAuditTrail()
    ports: dict[Provider, FakePort] = {
        GR: FakePort(GR, gr_contacts()),
        CC: RefusingWrites(CC, [make_contact(CC, 2)]),
    }
    references: list[Reference] = [
        gr(0, 1),
        gr(1, 99),  # a complaint: held back without an override
        gr(2, 777),  # not deleted at all
        InputProblem.of_contact(3, "not a contact reference"),
        Target(4, CC, fake_id(CC, 2)),  # the provider refuses the write
    ]
    report = await actions_over(ports, trail).restore(RestoreRequest(tuple(references)), caller=CALLER)
    assert len(report.outcomes) == 4

    events = by_index(trail)
    assert sorted(events, key=str) == [0, 1, 2, 3, 4]
    summary = {i: (e.status, e.code) for i, e in events.items()}
    assert summary == {
        0: (AuditStatus.DONE, None),
        1: (AuditStatus.SKIPPED, "CONSENT_REQUIRED"),
        2: (AuditStatus.SKIPPED, "NOT_FOUND"),
        3: (AuditStatus.SKIPPED, "BAD_USER_INPUT"),
        4: (AuditStatus.FAILED, "UPSTREAM_DOWN"),
    }
    assert (events[0].provider, events[0].contact_id, events[0].email) == (
        GR,
        "ge0001",
        "person1@example.com",
    )
    assert events[3].provider is None and events[3].message == "not a contact reference"
    for event in events.values():
        assert (event.principal_kind, event.principal_id, event.principal_name) == (
            PrincipalKind.KEY,
            "k-1",
            "crm-sync",
        )
        assert (event.operation, event.request_id, event.correlation_id) == (
            "restoreContacts",
            "req-1",
            "corr-1",
        )
        assert (event.dry_run, event.replay, event.override_reason, event.idempotency_key) == (
            False,
            False,
            None,
            None,
        )
    # Only the contacts written upstream (0 and 4) had an intent, and their outcomes share its action id.
    intents = [e for e in trail.rows if e.phase is AuditPhase.INTENT]
    assert sorted(e.item_index or 0 for e in intents) == [0, 4]
    assert {e.action_id for e in intents} == {events[0].action_id, events[4].action_id}
    assert all(e.status is AuditStatus.UNKNOWN for e in intents)


async def test_an_override_is_recorded_on_the_contacts_it_let_through_only() -> None:
    trail = MemoryAuditTrail()
    ports: dict[Provider, FakePort] = {GR: FakePort(GR, gr_contacts())}
    request = RestoreRequest((gr(0, 1), gr(1, 99)), override_reason=REASON)
    await actions_over(ports, trail).restore(request, caller=CALLER)
    events = by_index(trail)
    assert (events[0].status, events[0].override_reason) == (AuditStatus.DONE, None)
    assert (events[1].status, events[1].override_reason) == (AuditStatus.DONE, REASON)


async def test_a_dry_run_is_recorded_as_such_and_writes_no_intent() -> None:
    trail = MemoryAuditTrail()
    port = FakePort(GR, gr_contacts())
    port.active["someone@example.com"] = [("ge0500", "camp1")]
    request = DeleteRequest((Target(0, GR, email="someone@example.com"), gr(1, 501)), dry_run=True)
    await actions_over({GR: port}, trail).delete(request, caller=CALLER)
    events = by_index(trail)
    assert {(e.status, e.code, e.dry_run) for e in events.values()} == {
        (AuditStatus.SKIPPED, "DRY_RUN", True)
    }
    assert events[0].contact_id == "ge0500" and events[1].contact_id == "ge0501"
    assert all(e.phase is AuditPhase.OUTCOME for e in trail.rows)
    assert "delete" not in port.calls


async def test_the_intent_is_in_the_trail_before_the_upstream_write() -> None:
    trail = MemoryAuditTrail()
    port = WatchingWrites(GR, [], trail)
    await actions_over({GR: port}, trail).delete(DeleteRequest((gr(0, 5),)), caller=CALLER)
    assert port.deleted == ["ge0005"]
    (intent,) = port.seen_at_write
    assert (intent.phase, intent.status, intent.contact_id) == (
        AuditPhase.INTENT,
        AuditStatus.UNKNOWN,
        "ge0005",
    )
    (event,) = trail.visible()
    assert (event.phase, event.status, event.action_id) == (
        AuditPhase.OUTCOME,
        AuditStatus.DONE,
        intent.action_id,
    )


async def test_a_crash_between_intent_and_outcome_leaves_an_unknown_event() -> None:
    trail = MemoryAuditTrail()
    port = DyingMidWrite(GR, [])
    with pytest.raises(RuntimeError):
        await actions_over({GR: port}, trail).delete(DeleteRequest((gr(0, 5), gr(1, 6))), caller=CALLER)
    events = by_index(trail)
    assert {i: (e.status, e.contact_id) for i, e in events.items()} == {
        0: (AuditStatus.UNKNOWN, "ge0005"),
        1: (AuditStatus.UNKNOWN, "ge0006"),
    }


async def test_no_upstream_write_when_the_intent_cannot_be_recorded() -> None:
    trail = BrokenTrail()
    port = FakePort(GR, gr_contacts())
    actions = actions_over({GR: port}, trail)
    with pytest.raises(DatabaseError) as refused:
        await actions.delete(DeleteRequest((gr(0, 5),)), caller=CALLER)
    assert refused.value.code == "DATABASE_ERROR"
    with pytest.raises(DatabaseError):
        await actions.restore(RestoreRequest((gr(0, 1),)), caller=CALLER)
    assert "delete" not in port.calls and "restore" not in port.calls
    assert port.deleted == [] and port.restored == []


async def test_outcomes_that_cannot_be_recorded_after_a_write_leave_the_intents_unknown() -> None:
    trail = BrokenTrail(fail_from=1)  # the intent goes in, the outcome does not
    port = FakePort(GR, [])
    report = await actions_over({GR: port}, trail).delete(DeleteRequest((gr(0, 5),)), caller=CALLER)
    assert [o.contact_id for o in report.outcomes] == ["ge0005"]  # the caller still hears what happened
    (event,) = trail.visible()
    assert event.status is AuditStatus.UNKNOWN


async def test_a_refused_mutation_records_every_item_failed() -> None:
    trail = MemoryAuditTrail()
    port = FakePort(GR, [])
    port.active["twice@example.com"] = [("ge0010", "camp1"), ("ge0011", "camp1")]
    request = DeleteRequest((Target(0, GR, email="twice@example.com"), gr(1, 12)))
    with pytest.raises(BlastRadiusExceeded):
        await actions_over({GR: port}, trail).delete(request, caller=CALLER)
    events = by_index(trail)
    assert {i: (e.status, e.code) for i, e in events.items()} == {
        0: (AuditStatus.FAILED, "BLAST_RADIUS_EXCEEDED"),
        1: (AuditStatus.FAILED, "BLAST_RADIUS_EXCEEDED"),
    }
    assert port.deleted == []


async def test_too_many_contacts_records_each_item_with_the_reason() -> None:
    trail = MemoryAuditTrail()
    limits = InputLimits(max_contacts_per_mutation=2)
    request = DeleteRequest((gr(0, 1), gr(1, 2), gr(2, 3)))
    await actions_over({GR: FakePort(GR, [])}, trail, limits=limits).delete(request, caller=CALLER)
    events = by_index(trail)
    assert {(e.status, e.code) for e in events.values()} == {(AuditStatus.SKIPPED, "BAD_USER_INPUT")}
    assert sorted(i or 0 for i in events) == [0, 1, 2]


async def test_a_replay_is_recorded_per_contact_and_keys_belong_to_their_principal() -> None:
    trail = MemoryAuditTrail()
    port = FakePort(GR, [])
    actions = actions_over({GR: port}, trail)
    request = DeleteRequest((gr(0, 5),), idempotency_key="ticket-4411")

    first = await actions.delete(request, caller=CALLER)
    again = await actions.delete(request, caller=Caller(KEY, "req-2"))
    assert again == first and port.deleted == ["ge0005"]  # replayed: no second write

    other = await actions.delete(request, caller=Caller(TOKEN, "req-3"))
    assert port.deleted == ["ge0005", "ge0005"]  # the same key from another principal is its own run
    assert other.outcomes[0].status == first.outcomes[0].status

    events = sorted(trail.visible(), key=lambda e: e.request_id)
    assert [(e.request_id, e.principal_id, e.replay, e.idempotency_key) for e in events] == [
        ("req-1", "k-1", False, "ticket-4411"),
        ("req-2", "k-1", True, "ticket-4411"),
        ("req-3", "https://issuer.example user-7", False, "ticket-4411"),
    ]
    intents = [e.request_id for e in trail.rows if e.phase is AuditPhase.INTENT]
    assert intents == ["req-1", "req-3"]  # the replay sent nothing, so it announced nothing


async def test_the_memory_trail_filters_and_pages_like_the_database() -> None:
    trail = MemoryAuditTrail()
    port = FakePort(GR, gr_contacts())
    actions = actions_over({GR: port}, trail)
    await actions.restore(RestoreRequest((gr(0, 1), gr(1, 3))), caller=CALLER)
    await actions.delete(DeleteRequest((gr(0, 7),)), caller=Caller(TOKEN, "req-9"))
    page = await trail.page(AuditFilter(principal_id="k-1"), first=1, after=None)
    assert page.has_next_page and len(page.events) == 1
    rest = await trail.page(AuditFilter(principal_id="k-1"), first=5, after=AuditCursor.after(page.events[0]))
    assert not rest.has_next_page
    assert {e.contact_id for e in page.events + rest.events} == {"ge0001", "ge0003"}
    by_email = await trail.page(AuditFilter(email="PERSON1@example.com"), first=5, after=None)
    assert [e.contact_id for e in by_email.events] == ["ge0001"]

from datetime import UTC, date, datetime

from gateway.core.actions import consent_gate
from gateway.core.consent import restore_block, unsubscribed_block
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import merge_order, sort_key
from gateway.core.ports import OutcomeStatus, Target

from .factories import contact


def test_merge_order_is_most_recent_first_with_deterministic_ties() -> None:
    day = date(2024, 5, 3)
    items = [
        contact("b", provider=Provider.GETRESPONSE, deleted_on=day),
        contact("z", provider=Provider.CONSTANT_CONTACT, deleted_on=day),
        contact("a", provider=Provider.GETRESPONSE, deleted_on=day),
        contact("late", deleted_on=day, deleted_at=datetime(2024, 5, 3, 18, tzinfo=UTC)),
        contact("early", deleted_on=day, deleted_at=datetime(2024, 5, 3, 6, tzinfo=UTC)),
        contact("newer", deleted_on=date(2025, 1, 1)),
        contact("older", deleted_on=date(2020, 1, 1)),
    ]
    ordered = [c.contact_id for c in merge_order(items)]
    assert ordered == ["newer", "late", "early", "z", "a", "b", "older"]
    assert ordered == [c.contact_id for c in merge_order(reversed(items))]


def test_consent_policy() -> None:
    for reason in (DeletionReason.UNSUBSCRIBE, DeletionReason.COMPLAINT, DeletionReason.BLACKLISTED):
        assert restore_block(reason)
    for reason in (DeletionReason.API, DeletionReason.BOUNCE, DeletionReason.USER, DeletionReason.UNKNOWN):
        assert restore_block(reason) is None
    assert unsubscribed_block("unsubscribed") and unsubscribed_block("implicit") is None


def test_consent_gate_blocks_withdrawn_consent_unless_overridden(caplog) -> None:
    ok = (Target(0, Provider.GETRESPONSE, "ok"), contact("ok"))
    withdrawn = (Target(1, Provider.GETRESPONSE, "no"), contact("no", blocked="the person unsubscribed"))
    gate = consent_gate([ok, withdrawn], None, request_id="r1")
    assert [t.contact_id for t, _ in gate.allowed] == ["ok"]
    assert [(o.status, o.code) for o in gate.blocked] == [(OutcomeStatus.SKIPPED, "CONSENT_REQUIRED")]

    with caplog.at_level("WARNING", logger="gateway.audit"):
        overridden = consent_gate([ok, withdrawn], "customer re-subscribed by phone", request_id="r2")
    assert len(overridden.allowed) == 2 and not overridden.blocked
    assert "request_id=r2" in caplog.text and "re-subscribed by phone" in caplog.text


def test_a_complaint_at_one_provider_blocks_restores_everywhere() -> None:
    cc = contact("cc1", provider=Provider.CONSTANT_CONTACT)
    complaint = contact(
        "gr1",
        provider=Provider.GETRESPONSE,
        reason=DeletionReason.COMPLAINT,
        blocked="the person reported a spam complaint",
    )
    unsubscribe = contact(
        "gr2",
        provider=Provider.GETRESPONSE,
        reason=DeletionReason.UNSUBSCRIBE,
        blocked="the person unsubscribed",
    )
    target = Target(0, Provider.CONSTANT_CONTACT, "cc1")

    gate = consent_gate([(target, cc)], None, request_id="r", evidence={cc.email.lower(): [cc, complaint]})
    (outcome,) = gate.blocked
    assert outcome.code == "CONSENT_REQUIRED" and "GETRESPONSE" in (outcome.message or "")

    # An unsubscribe is local to the list it was given for; it does not suppress other providers.
    gate = consent_gate([(target, cc)], None, request_id="r", evidence={cc.email.lower(): [cc, unsubscribe]})
    assert gate.allowed and not gate.blocked


def test_consent_gate_fails_closed_when_a_provider_cannot_be_checked() -> None:
    from gateway.providers.errors import ProviderTimeout

    cc = contact("cc1", provider=Provider.CONSTANT_CONTACT)
    unverified = {Provider.GETRESPONSE: ProviderTimeout("slow", provider=Provider.GETRESPONSE)}
    gate = consent_gate(
        [(Target(0, Provider.CONSTANT_CONTACT, "cc1"), cc)], None, request_id="r", unverified=unverified
    )
    assert [o.code for o in gate.blocked] == ["CONSENT_UNVERIFIED"]
    gate = consent_gate(
        [(Target(0, Provider.CONSTANT_CONTACT, "cc1"), cc)],
        "customer confirmed by phone",
        request_id="r",
        unverified=unverified,
    )
    assert gate.allowed


def test_a_listed_contact_maps_once_and_names_its_key() -> None:
    listed_one = contact("g3")
    calls: list[object] = []

    def map_entry(entry: object) -> DeletedContact:
        calls.append(entry)
        return listed_one

    listed = ListedContact(sort_key(listed_one), "entry", map_entry)
    assert (listed.provider, listed.contact_id, listed.provider_value) == (
        Provider.GETRESPONSE, "g3", "getresponse",
    )  # fmt: skip
    assert listed.contact is listed_one and listed.contact is listed_one and calls == ["entry"]
    mapped = ListedContact.of_contact(sort_key(listed_one), "entry", listed_one)
    assert mapped.contact is listed_one

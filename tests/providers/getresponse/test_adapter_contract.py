"""The adapter on top of this client, end to end against the emulator: the interface it calls holds.

A smoke test of the seam, not of the adapter's rules: each adapter entry point runs once, and the
number of HTTP requests shows the batching the adapter relies on.
"""

from __future__ import annotations

from gateway.core.filters import DeletedContactFilter
from gateway.core.model import Provider
from gateway.core.ports import OutcomeStatus, RestoreOptions, Target
from gateway.providers.getresponse.adapter import GetResponseAdapter

from .conftest import Emulator


async def test_reading_through_the_adapter_is_one_request_per_question(emulator: Emulator) -> None:
    adapter = GetResponseAdapter(emulator.client())
    await emulator.reset_requests()

    listed_contacts = await adapter.list_deleted(DeletedContactFilter())
    assert await emulator.http_requests() == 1
    assert listed_contacts and all(item.provider is Provider.GETRESPONSE for item in listed_contacts)
    # A listed contact's entry is its snapshot entry, and maps to the contact it stands for.
    assert all(item.entry == adapter.snapshot_entry(item.contact) for item in listed_contacts)
    listed = [item.contact for item in listed_contacts]

    found = await adapter.find_deleted_by_email([listed[0].email, "nobody@example.com"])
    assert [contact.contact_id for contact in found[0]] == [listed[0].contact_id] and found[1] == []
    (again,) = await adapter.get_deleted([listed[0].contact_id])
    assert again == listed[0]
    assert await emulator.http_requests() == 3

    record = listed[0].source
    campaigns, messages = await adapter.catalog_by_ids([record.campaign_id], [])
    assert list(campaigns) == [record.campaign_id] and messages == {}
    assert len(await adapter.campaigns()) == len((await emulator.ground_truth())["campaigns"])
    assert adapter.health().circuit_state == "closed"
    assert adapter.from_snapshot_entry(adapter.snapshot_entry(listed[0])) == listed[0]


async def test_deleting_and_restoring_through_the_adapter(emulator: Emulator) -> None:
    adapter = GetResponseAdapter(emulator.client())
    active = (await emulator.ground_truth())["contacts"]
    contact_id, contact = next(iter(active.items()))
    other = next(c for c in active.values() if c["email"].lower() != contact["email"].lower())
    held_by_other = {i for i, c in active.items() if c["email"].lower() == other["email"].lower()}

    resolved, failed = await adapter.resolve_active(
        [
            Target(0, Provider.GETRESPONSE, contact_id=contact_id),
            Target(1, Provider.GETRESPONSE, contact_id="nope0"),
            Target(2, Provider.GETRESPONSE, email=other["email"].upper()),
        ]
    )
    assert failed == []
    assert [(r.target.index, r.contact_id) for r in resolved[:2]] == [(0, contact_id), (1, "nope0")]
    by_address = resolved[2:]
    assert {r.contact_id for r in by_address} == held_by_other
    assert {r.scope for r in by_address} == {active[i]["campaign"] for i in held_by_other}

    deleted = await adapter.delete(resolved[:2])
    assert [outcome.status for outcome in deleted] == [OutcomeStatus.DONE, OutcomeStatus.FAILED]
    assert deleted[1].code == "NOT_FOUND"

    (record,) = await adapter.get_deleted([contact_id])
    assert record is not None and record.email == contact["email"]
    (restored,) = await adapter.restore([(Target(0, Provider.GETRESPONSE, contact_id=contact_id), record)],
                                        RestoreOptions())  # fmt: skip
    assert restored.status is OutcomeStatus.PENDING
    queued = (await emulator.ground_truth())["queued"]
    assert [(q["email"], q["campaign"]) for q in queued] == [(contact["email"], contact["campaign"])]

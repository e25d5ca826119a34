"""What keeps a large account cheap must not change an answer: the day indexes and the JSON budget.

``get_contacts_deleted`` with a ``deleted_on`` range and ``get_contacts`` with a ``created_on`` or
``changed_on`` range read the store's day indexes when the range holds few records.  They must find
exactly what a walk of every record finds, in the same order as the walk, also after records were
added, moved and deleted (each of which refiles a record).
"""

from __future__ import annotations

from typing import Any

import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app

from .conftest import GetResponse

ACCOUNT = GetResponseEmulatorSettings(seed=29, contacts=1500, deleted_fraction=0.5)
RANGES = [
    {"FROM": "2024-05-01", "TO": "2024-05-20"},
    {"AT": "2026-10-31"},
    {"FROM": "2026-10-01"},
    {"TO": "2019-02-01"},
    {"FROM": "2015-01-01"},  # most records: the walk
]


def _in(day: str, condition: dict[str, str]) -> bool:
    first = condition.get("FROM", condition.get("AT"))
    last = condition.get("TO", condition.get("AT"))
    return (first is None or day >= first) and (last is None or day <= last)


@pytest.mark.parametrize("gr_settings", [ACCOUNT])
@pytest.mark.parametrize("condition", RANGES)
async def test_deleted_on_ranges_find_what_the_walk_finds_in_its_order(
    gr: GetResponse, condition: dict[str, str]
) -> None:
    everything = await gr.result("get_contacts_deleted")

    found = await gr.result("get_contacts_deleted", {"deleted_on": condition})

    expected = [cid for cid, entry in everything.items() if _in(entry["deleted_on"][:10], condition)]
    assert list(found) == expected
    assert all(found[cid] == everything[cid] for cid in found)


@pytest.mark.parametrize("gr_settings", [ACCOUNT])
@pytest.mark.parametrize("field", ["created_on", "changed_on"])
@pytest.mark.parametrize("condition", RANGES)
async def test_contact_day_ranges_find_what_the_walk_finds_in_its_order(
    gr: GetResponse, field: str, condition: dict[str, str]
) -> None:
    everything = await gr.result("get_contacts")

    found = await gr.result("get_contacts", {field: condition})

    expected = [
        cid for cid, contact in everything.items() if contact[field] and _in(contact[field][:10], condition)
    ]
    assert list(found) == expected


@pytest.mark.parametrize("gr_settings", [ACCOUNT])
async def test_records_changed_after_seeding_are_found_by_their_new_days(gr: GetResponse) -> None:
    truth = await gr.ground_truth()
    campaigns = list(truth["campaigns"])
    contacts: dict[str, Any] = truth["contacts"]
    moved, removed = list(contacts)[:2]
    address = contacts[moved]["email"].casefold()
    taken = {c["campaign"] for c in contacts.values() if c["email"].casefold() == address}
    target = next(c for c in campaigns if c not in taken)
    today = {"FROM": "2030-01-01"}
    await gr.advance_clock(10 * 365 * 86400)  # past every seeded day

    await gr.result("move_contact", {"contact": moved, "campaign": target})
    await gr.result("delete_contact", {"contact": removed})
    await gr.result("add_contact", {"campaign": campaigns[0], "email": "big.account@example.org"})
    await gr.advance_clock(60)  # the addition is confirmed

    assert list(await gr.result("get_contacts", {"changed_on": today})) == [moved]
    created = await gr.result("get_contacts", {"created_on": today})
    assert [c["email"] for c in created.values()] == ["big.account@example.org"]
    deleted = await gr.result("get_contacts_deleted", {"deleted_on": today})
    assert list(deleted) == [removed]
    old_day = contacts[moved]["created_on"][:10]
    assert moved in await gr.result("get_contacts", {"created_on": {"AT": old_day}})
    assert removed not in await gr.result(
        "get_contacts", {"created_on": {"AT": contacts[removed]["created_on"][:10]}}
    )


@pytest.mark.parametrize("gr_settings", [ACCOUNT])
async def test_a_store_past_its_json_budget_answers_the_same_entries(gr: GetResponse) -> None:
    kept = await gr.result("get_contacts_deleted")
    gr.app.state.store.json_cache_removals = 0
    assert (await gr.http.post("/_emulator/reset")).status_code == 200  # no removal keeps its JSON now

    again = await gr.result("get_contacts_deleted", {"reason": "unsubscribe"})

    assert again == {cid: entry for cid, entry in kept.items() if entry["reason"] == "unsubscribe"}


@pytest.mark.parametrize("count", [1, 999, 2345])
def test_with_deleted_is_the_smallest_account_listing_that_many_removals(count: int) -> None:
    settings = GetResponseEmulatorSettings.with_deleted(count, deleted_fraction=0.9, seed=3)
    smaller = GetResponseEmulatorSettings(seed=3, contacts=settings.contacts - 1, deleted_fraction=0.9)

    assert len(list(create_app(settings).state.store.latest_deletions())) == settings.listed_deleted == count
    assert len(list(create_app(smaller).state.store.latest_deletions())) < count

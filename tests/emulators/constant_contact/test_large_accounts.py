"""What keeps a large account cheap must not change an answer: the update index and the JSON budget.

``updated_after``/``updated_before`` reads go through the store's update index when the window holds
few contacts; they must list exactly what a walk of every contact would, also after contacts were
deleted, restored and created (each of which moves a contact in the index).  A store past its JSON
budget serializes pages on every read; they must be the same bytes as kept JSON gives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app

from .conftest import ConstantContact

ACCOUNT = ConstantContactEmulatorSettings(
    seed=23, contacts=1200, deleted_fraction=0.5, requests_per_second=1e6, daily_quota=10**9
)


def _expected(truth: dict[str, Any], after: str | None, before: str | None, statuses: set[str]) -> list[str]:
    """Ids in creation order whose ``updated_at`` lies in ``[after, before)``: the walk of everything."""

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    contacts = sorted(truth["contacts"].values(), key=lambda c: (c["created_at"], c["contact_id"]))
    return [
        c["contact_id"]
        for c in contacts
        if c["status"] in statuses
        and (after is None or moment(c["updated_at"]) >= moment(after))
        and (before is None or moment(c["updated_at"]) < moment(before))
    ]


async def _listed_ids(cc: ConstantContact, params: dict[str, str]) -> list[str]:
    return [contact["contact_id"] for contact in await cc.listed(params)]


@pytest.mark.parametrize("cc_settings", [ACCOUNT])
@pytest.mark.parametrize(
    ("after", "before"),
    [
        ("2026-09-01T00:00:00Z", None),  # a delta: few contacts, read through the index
        ("2026-10-30T12:00:00Z", "2026-10-31T00:00:00Z"),
        ("2015-01-01T00:00:00Z", None),  # most contacts: a walk in creation order
        (None, "2019-06-01T00:00:00Z"),
    ],
)
async def test_update_windows_list_what_a_walk_of_every_contact_would(
    cc: ConstantContact, after: str | None, before: str | None
) -> None:
    truth = await cc.ground_truth()
    params = {"status": "all", "limit": "37"}
    if after is not None:
        params["updated_after"] = after
    if before is not None:
        params["updated_before"] = before
    every = {"active", "deleted", "not_set", "pending_confirmation", "temp_hold", "unsubscribed"}

    listed = await _listed_ids(cc, params)

    assert listed == _expected(truth, after, before, every)
    assert len(set(listed)) == len(listed)
    deleted = await _listed_ids(cc, {**params, "status": "deleted"})
    assert deleted == _expected(truth, after, before, {"deleted"})


@pytest.mark.parametrize("cc_settings", [ACCOUNT])
async def test_a_delta_sees_contacts_deleted_restored_and_created_after_seeding(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    live = next(c for c in truth["contacts"].values() if c["status"] == "active")
    deleted = next(c for c in truth["contacts"].values() if c["status"] == "deleted")
    list_id = next(iter(truth["lists"]))
    since = "2030-01-01T00:00:00Z"
    assert await _listed_ids(cc, {"status": "all", "updated_after": since}) == []

    await cc.advance_clock(datetime(2030, 6, 1).timestamp() - datetime.now().timestamp())
    assert (await cc.delete(f"/v3/contacts/{live['contact_id']}")).status_code == 204
    created = await cc.post(
        "/v3/contacts",
        {"email_address": {"address": "Big.Account@Example.com"}, "create_source": "Account"},
    )
    assert created.status_code == 201, created.text
    restored = await cc.post(
        "/v3/activities/add_list_memberships",
        {"source": {"contact_ids": [deleted["contact_id"]]}, "list_ids": [list_id]},
    )
    assert restored.status_code == 201, restored.text
    await cc.advance_clock(60)  # the bulk activity finishes
    await cc.ground_truth()

    changed = await _listed_ids(cc, {"status": "all", "updated_after": since, "limit": "1"})
    assert sorted(changed) == sorted(
        [live["contact_id"], deleted["contact_id"], created.json()["contact_id"]]
    )
    after = await cc.ground_truth()
    assert changed == _expected(after, since, None, {c["status"] for c in after["contacts"].values()})
    assert await _listed_ids(cc, {"status": "deleted", "updated_after": since}) == [live["contact_id"]]


@pytest.mark.parametrize(
    "cc_settings",
    [ConstantContactEmulatorSettings(seed=23, contacts=1200, requests_per_second=1e6, daily_quota=10**9)],
)
async def test_a_store_past_its_json_budget_answers_the_same_bytes(cc: ConstantContact) -> None:
    kept = await cc.pages({"status": "all", "limit": "500", "include": "phone_numbers"})
    cc.app.state.store.json_cache_contacts = 10  # from now on, pages are serialized on every read

    again = await cc.pages({"status": "all", "limit": "500", "include": "phone_numbers"})
    fresh = await cc.pages({"status": "all", "limit": "500"})

    assert again == kept
    assert [c["contact_id"] for page in fresh for c in page["contacts"]] == [
        c["contact_id"] for page in kept for c in page["contacts"]
    ]


@pytest.mark.parametrize("count", [1, 999, 2345])
def test_with_deleted_is_the_smallest_account_holding_that_many_deleted_contacts(count: int) -> None:
    settings = ConstantContactEmulatorSettings.with_deleted(count, deleted_fraction=0.9, seed=3)
    smaller = ConstantContactEmulatorSettings(seed=3, contacts=settings.contacts - 1, deleted_fraction=0.9)

    assert create_app(settings).state.store.category_count("deleted") == count
    assert create_app(smaller).state.store.category_count("deleted") < count

"""Bulk activities: ``contact_delete`` and ``add_list_memberships`` moving initialized -> processing ->
completed with the emulator clock, per-item errors, and the request rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from .conftest import SMALL_ACCOUNT, ConstantContact, contacts_with

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# The settings' defaults: 0.5 s initialized, then 1.5 s processing.


async def activity(cc: ConstantContact, created: Any) -> dict[str, Any]:
    assert created.status_code == 201, created.text
    body: dict[str, Any] = await cc.ok(created.json()["_links"]["self"]["href"])
    return body


SLOW_ACTIVITIES = replace(SMALL_ACCOUNT, activity_processing_seconds=100.0)  # 10 s per item of 10


@pytest.mark.parametrize("cc_settings", [SLOW_ACTIVITIES])
async def test_a_contact_delete_progresses_with_the_clock_and_reports_unknown_ids(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    targets = [c["contact_id"] for c in contacts_with(truth, "active")[:9]]
    created = await cc.post("/v3/activities/contact_delete", {"contact_ids": [*targets, UNKNOWN_ID]})

    start = created.json()
    assert start["state"] == "initialized" and start["percent_done"] == 0
    assert start["status"] == {"items_total_count": 10, "items_completed_count": 0}
    assert start["_links"]["self"]["href"] == f"/v3/activities/{start['activity_id']}"

    await cc.advance_clock(0.5 + 51)  # half way through processing
    halfway = await activity(cc, created)
    assert halfway["state"] == "processing" and halfway["status"]["items_completed_count"] == 5
    assert halfway["percent_done"] == 50 and "completed_at" not in halfway and "started_at" in halfway
    truth = await cc.ground_truth()
    assert [truth["contacts"][t]["status"] for t in targets].count("deleted") == 5

    await cc.advance_clock(50)
    done = await activity(cc, created)
    assert done["state"] == "completed" and done["percent_done"] == 100
    assert done["status"] == {"items_total_count": 10, "items_completed_count": 10, "error_count": 1}
    assert done["activity_errors"] == [f"contact_id {UNKNOWN_ID} was not found."]
    truth = await cc.ground_truth()
    assert all(truth["contacts"][t]["status"] == "deleted" for t in targets)
    assert all(truth["contacts"][t]["list_memberships"] == [] for t in targets)
    # Each deletion is stamped with the moment its item was processed, inside the processing window.
    stamps = [truth["contacts"][t]["updated_at"] for t in targets]
    assert stamps == sorted(stamps) and done["started_at"] < stamps[0] and stamps[-1] <= done["completed_at"]


async def test_a_contact_delete_by_list_deletes_the_members_of_those_lists(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    list_ids = list(truth["lists"])[:2]
    members = [
        c["contact_id"] for c in truth["contacts"].values() if set(list_ids) & set(c["list_memberships"])
    ]

    created = await cc.post("/v3/activities/contact_delete", {"list_ids": list_ids})
    await cc.advance_clock(5)

    done = await activity(cc, created)
    assert done["status"]["list_count"] == 2 and done["status"]["items_total_count"] == len(members) > 0
    truth = await cc.ground_truth()
    assert {truth["contacts"][m]["status"] for m in members} == {"deleted"}
    assert all(item["membership_count"] == 0 for item in list(truth["lists"].values())[:2])


async def test_add_list_memberships_restores_deleted_contacts(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    deleted = [c["contact_id"] for c in contacts_with(truth, "deleted")[:6]]
    list_id = next(iter(truth["lists"]))

    created = await cc.post(
        "/v3/activities/add_list_memberships",
        {"source": {"contact_ids": [*deleted, UNKNOWN_ID]}, "list_ids": [list_id]},
    )
    assert created.json()["status"] == {"items_total_count": 7, "items_completed_count": 0, "list_count": 1}
    await cc.advance_clock(5)

    done = await activity(cc, created)
    assert done["state"] == "completed" and done["activity_errors"] == [
        f"contact_id {UNKNOWN_ID} was not found."
    ]
    truth = await cc.ground_truth()
    for contact_id in deleted:
        contact = truth["contacts"][contact_id]
        assert contact["status"] != "deleted" and "deleted_at" not in contact
        assert contact["list_memberships"] == [list_id] and contact["update_source"] == "Account"


async def test_add_list_memberships_from_lists_or_all_active_contacts_honours_exclude(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    source, target = list(truth["lists"])[:2]
    members = [c["contact_id"] for c in truth["contacts"].values() if source in c["list_memberships"]]
    active = [c["contact_id"] for c in contacts_with(truth, "active")]

    by_list = await cc.post(
        "/v3/activities/add_list_memberships",
        {"source": {"list_ids": [source]}, "list_ids": [target], "exclude": {"contact_ids": members[:1]}},
    )
    everyone = await cc.post(
        "/v3/activities/add_list_memberships", {"source": {"all_active_contacts": True}, "list_ids": [target]}
    )
    await cc.advance_clock(5)

    assert (await activity(cc, by_list))["status"]["items_total_count"] == len(members) - 1
    assert (await activity(cc, everyone))["status"]["items_total_count"] == len(active)
    truth = await cc.ground_truth()
    assert all(target in truth["contacts"][c]["list_memberships"] for c in active)


@pytest.mark.parametrize(
    "cc_settings", [replace(SMALL_ACCOUNT, activity_initialized_seconds=0, activity_processing_seconds=0)]
)
async def test_activities_with_zero_timings_complete_at_once(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    target = contacts_with(truth, "active")[0]["contact_id"]

    created = await cc.post("/v3/activities/contact_delete", {"contact_ids": [target]})

    assert created.json()["state"] == "completed"
    assert (await cc.ground_truth())["contacts"][target]["status"] == "deleted"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("contact_delete", {}, "Specify either contact_ids or list_ids (not both)."),
        (
            "contact_delete",
            {"contact_ids": [UNKNOWN_ID], "list_ids": [UNKNOWN_ID]},
            "Specify either contact_ids or list_ids (not both).",
        ),
        ("contact_delete", {"contact_ids": []}, "contact_ids must contain from 1 through 500 ids."),
        (
            "contact_delete",
            {"contact_ids": [UNKNOWN_ID] * 501},
            "contact_ids must contain from 1 through 500 ids.",
        ),
        ("contact_delete", {"contact_ids": ["nope"]}, "contact_ids must contain only ids in UUID format."),
        (
            "contact_delete",
            {"list_ids": [UNKNOWN_ID]},
            f"list_ids names a list that does not exist: {UNKNOWN_ID}.",
        ),
        ("add_list_memberships", {"list_ids": ["LIST"]}, "source is required."),
        (
            "add_list_memberships",
            {"source": {"contact_ids": [UNKNOWN_ID], "all_active_contacts": True}, "list_ids": ["LIST"]},
            "source must have exactly one of contact_ids, list_ids or all_active_contacts.",
        ),
        (
            "add_list_memberships",
            {"source": {"segment_id": 12}, "list_ids": ["LIST"]},
            "source.segment_id is not supported by this emulator.",
        ),
        ("add_list_memberships", {"source": {"contact_ids": [UNKNOWN_ID]}}, "list_ids is required."),
    ],
)
async def test_bad_activity_requests_are_400s(
    cc: ConstantContact, path: str, body: dict[str, Any], message: str
) -> None:
    truth = await cc.ground_truth()
    list_id = next(iter(truth["lists"]))
    if body.get("list_ids") == ["LIST"]:
        body = {**body, "list_ids": [list_id]}

    response = await cc.post(f"/v3/activities/{path}", body)

    assert response.status_code == 400
    assert message in [item["error_message"] for item in response.json()]
    assert (await cc.ground_truth())["activities"] == {}


@pytest.mark.parametrize("activity_id", [UNKNOWN_ID, "nope"])
async def test_unknown_activities_are_404s(cc: ConstantContact, activity_id: str) -> None:
    response = await cc.get(f"/v3/activities/{activity_id}")

    assert response.status_code == 404
    assert response.json()[0]["error_key"] == "activities.api.not_found"


async def test_activities_are_kept_for_ten_days(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    created = await cc.post("/v3/activities/contact_delete", {"contact_ids": [next(iter(truth["contacts"]))]})
    href = created.json()["_links"]["self"]["href"]

    await cc.advance_clock(10 * 86400 - 60)
    kept = await cc.get(href)
    await cc.advance_clock(120)
    gone = await cc.get(href)

    assert kept.status_code == 200 and gone.status_code == 404

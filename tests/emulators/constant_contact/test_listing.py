"""``GET /v3/contacts`` and ``GET /v3/contact_lists``: filters, counts, validation, and cursor paging,
including paging while contacts are deleted and restored between pages."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest

from .conftest import SMALL_ACCOUNT, ConstantContact, contacts_with

CATEGORIES = ("active", "deleted", "not_set", "pending_confirmation", "temp_hold", "unsubscribed")


def ids(contacts: list[dict[str, Any]]) -> list[str]:
    return [contact["contact_id"] for contact in contacts]


# -- paging --------------------------------------------------------------------------------------------


async def test_paging_reaches_the_last_page_which_has_no_next_link(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    live = [c for c in truth["contacts"].values() if c["status"] != "deleted"]

    pages = await cc.pages({"limit": 45})

    assert [len(page["contacts"]) for page in pages[:-1]] == [45] * (len(pages) - 1)
    assert 0 < len(pages[-1]["contacts"]) <= 45 and "_links" not in pages[-1]
    assert len(pages) == -(-len(live) // 45)
    # Creation order, every live contact exactly once.
    assert [c["contact_id"] for page in pages for c in page["contacts"]] == ids(live)


async def test_the_next_link_is_host_relative_with_an_opaque_cursor(cc: ConstantContact) -> None:
    page = await cc.ok("/v3/contacts", {"status": "deleted", "limit": 10})

    href = page["_links"]["next"]["href"]
    cursor = href.removeprefix("/v3/contacts?cursor=")
    assert href.startswith("/v3/") and "&" not in href and "status" not in href
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    assert decoded.startswith("status=deleted&limit=10&next=")
    assert set(page) == {"contacts", "_links"}


async def test_an_exact_multiple_of_the_limit_ends_without_an_empty_page(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    deleted = contacts_with(truth, "deleted")

    pages = await cc.pages({"status": "deleted", "limit": len(deleted) // 2})

    assert len(deleted) % 2 == 0 and [len(page["contacts"]) for page in pages] == [len(deleted) // 2] * 2


async def test_a_limit_next_to_a_cursor_overrides_the_cursors_limit(cc: ConstantContact) -> None:
    first = await cc.ok("/v3/contacts", {"status": "all", "limit": 5})
    second = await cc.ok(first["_links"]["next"]["href"] + "&limit=7&status=deleted")
    everything = await cc.listed({"status": "all", "limit": 500})

    assert ids(first["contacts"] + second["contacts"]) == ids(everything[:12])


@pytest.mark.parametrize(
    "cursor", ["garbage!", "bm9wZQ", base64.urlsafe_b64encode(b"limit=5&next=x").decode()]
)
async def test_a_bad_cursor_is_a_400(cc: ConstantContact, cursor: str) -> None:
    response = await cc.get("/v3/contacts", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == [
        {"error_key": "contacts.api.validation.error", "error_message": "cursor is invalid."}
    ]


async def restore(cc: ConstantContact, contact: dict[str, Any], list_id: str) -> None:
    body = {
        "update_source": "Account",
        "email_address": contact["email_address"],
        "list_memberships": [list_id],
    }
    response = await cc.put(f"/v3/contacts/{contact['contact_id']}", body)
    assert response.status_code == 200, response.text


async def test_paging_live_contacts_while_deleting_and_creating_shows_each_survivor_once(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    live = ids([c for c in truth["contacts"].values() if c["status"] != "deleted"])
    deleted_ahead: set[str] = set()
    created: set[str] = set()
    seen: list[str] = []
    href: str | None = "/v3/contacts?limit=40"
    while href:
        page = await cc.ok(href)
        seen += ids(page["contacts"])
        href = page.get("_links", {}).get("next", {}).get("href")
        if href:  # delete the contact that would open the next page and one already seen; add one
            ahead = live[live.index(seen[-1]) + 1]
            for contact_id in (ahead, seen[len(seen) // 2]):
                assert (await cc.delete(f"/v3/contacts/{contact_id}")).status_code == 204
            deleted_ahead.add(ahead)
            new = await cc.post("/v3/contacts", {"create_source": "Account", "first_name": f"N{len(seen)}"})
            created.add(new.json()["contact_id"])

    assert len(seen) == len(set(seen))
    assert set(seen) == (set(live) - deleted_ahead) | created and len(deleted_ahead) >= 5


async def test_paging_everything_while_deleting_and_restoring_shows_each_contact_exactly_once(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    everyone = list(truth["contacts"].values())
    list_id = next(iter(truth["lists"]))
    seen: list[str] = []
    href: str | None = "/v3/contacts?status=all&limit=40"
    while href:
        page = await cc.ok(href)
        seen += ids(page["contacts"])
        href = page.get("_links", {}).get("next", {}).get("href")
        position = len(seen)
        for contact in (everyone[position // 2], everyone[min(position, len(everyone) - 1)]):
            if contact["status"] == "deleted":
                await restore(cc, contact, list_id)
            else:
                assert (await cc.delete(f"/v3/contacts/{contact['contact_id']}")).status_code == 204

    assert seen == ids(everyone)


async def test_paging_deleted_contacts_while_restoring_shows_each_still_deleted_contact_once(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    deleted = ids(contacts_with(truth, "deleted"))
    list_id = next(iter(truth["lists"]))
    restored_ahead: set[str] = set()
    seen: list[str] = []
    href: str | None = "/v3/contacts?status=deleted&limit=25"
    while href:
        page = await cc.ok(href)
        seen += ids(page["contacts"])
        href = page.get("_links", {}).get("next", {}).get("href")
        if href:  # bulk-restore the contact that would open the next page, and the last one seen
            ahead = deleted[deleted.index(seen[-1]) + 1]
            activity = await cc.post(
                "/v3/activities/add_list_memberships",
                {"source": {"contact_ids": [ahead, seen[-1]]}, "list_ids": [list_id]},
            )
            assert activity.status_code == 201
            restored_ahead.add(ahead)
            await cc.advance_clock(5)

    assert len(seen) == len(set(seen))
    assert set(seen) == set(deleted) - restored_ahead and len(restored_ahead) >= 3


async def test_contacts_created_between_pages_appear_on_a_later_page(cc: ConstantContact) -> None:
    first = await cc.ok("/v3/contacts", {"limit": 100})
    created = await cc.post(
        "/v3/contacts", {"create_source": "Account", "email_address": {"address": "late@example.com"}}
    )
    rest: list[dict[str, Any]] = []
    href = first["_links"]["next"]["href"]
    while href:
        page = await cc.ok(href)
        rest += page["contacts"]
        href = page.get("_links", {}).get("next", {}).get("href")

    assert rest[-1]["contact_id"] == created.json()["contact_id"]


# -- filters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", CATEGORIES)
async def test_each_status_lists_exactly_its_contacts(cc: ConstantContact, status: str) -> None:
    truth = await cc.ground_truth()

    listed = await cc.listed({"status": status, "limit": 500, "include_count": "true"})

    assert ids(listed) == ids(contacts_with(truth, status)) and listed


async def test_no_status_means_everything_but_deleted_and_all_means_everything(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    default = await cc.listed({"limit": 500})
    everything = await cc.listed({"status": "all", "limit": 500})
    combined = await cc.listed({"status": "deleted,unsubscribed", "limit": 500})

    assert ids(default) == ids([c for c in truth["contacts"].values() if c["status"] != "deleted"])
    assert ids(everything) == list(truth["contacts"])
    assert ids(combined) == ids(contacts_with(truth, "deleted", "unsubscribed"))
    assert any("deleted_at" in c for c in combined) and all(c["email_address"] for c in combined)


async def test_include_count_counts_every_page_and_is_absent_otherwise(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    pages = await cc.pages({"status": "deleted", "limit": 30, "include_count": "true"})
    without = await cc.ok("/v3/contacts", {"status": "deleted"})

    assert {page["contacts_count"] for page in pages} == {len(contacts_with(truth, "deleted"))}
    assert "contacts_count" not in without


async def test_contacts_count_follows_changes_made_between_pages(cc: ConstantContact) -> None:
    params = {"status": "active", "limit": 20, "include_count": "true", "created_after": "2015-01-01"}
    first = await cc.ok("/v3/contacts", params)
    await cc.delete(f"/v3/contacts/{first['contacts'][0]['contact_id']}")
    second = await cc.ok(first["_links"]["next"]["href"])
    await cc.http.post("/_emulator/reset")
    third = await cc.ok(first["_links"]["next"]["href"])

    assert second["contacts_count"] == first["contacts_count"] - 1
    assert third["contacts_count"] == first["contacts_count"]


@pytest.mark.parametrize("cc_settings", [replace(SMALL_ACCOUNT, always_include_count=True)])
async def test_contacts_count_can_be_switched_on_for_every_answer(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()

    page = await cc.ok("/v3/contacts", {"status": "deleted", "limit": 1})

    assert page["contacts_count"] == len(contacts_with(truth, "deleted"))


async def test_email_is_exact_case_insensitive_and_skips_deleted_contacts_by_default(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    deleted = contacts_with(truth, "deleted")[0]
    live = contacts_with(truth, "active")[0]
    address = live["email_address"]["address"]

    found = await cc.ok("/v3/contacts", {"email": address.swapcase()})
    partial = await cc.ok("/v3/contacts", {"email": address[1:]})
    hidden = await cc.ok("/v3/contacts", {"email": deleted["email_address"]["address"]})
    shown = await cc.ok("/v3/contacts", {"email": deleted["email_address"]["address"], "status": "deleted"})

    assert ids(found["contacts"]) == [live["contact_id"]]
    assert partial["contacts"] == [] and hidden["contacts"] == []
    assert ids(shown["contacts"]) == [deleted["contact_id"]]


async def test_date_filters_are_inclusive_after_and_exclusive_before(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    pivot = contacts_with(truth, "deleted")[40]
    everything = list(truth["contacts"].values())

    after = await cc.listed({"status": "all", "limit": 500, "created_after": pivot["created_at"]})
    before = await cc.listed({"status": "all", "limit": 500, "created_before": pivot["created_at"]})
    window = await cc.listed(
        {
            "status": "deleted",
            "limit": 500,
            "updated_after": "2022-01-01",
            "updated_before": "2024-01-01T00:00:00Z",
        }
    )

    assert ids(after) == ids([c for c in everything if c["created_at"] >= pivot["created_at"]])
    assert ids(before) == ids([c for c in everything if c["created_at"] < pivot["created_at"]])
    assert pivot["contact_id"] in ids(after) and pivot["contact_id"] not in ids(before)
    expected = [c for c in contacts_with(truth, "deleted") if "2022-01-01" <= c["updated_at"] < "2024-01-01"]
    assert ids(window) == ids(expected) and expected


async def test_lists_and_optout_filters(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    list_id = next(iter(truth["lists"]))
    members = await cc.listed({"lists": list_id, "limit": 500})
    opted_out = await cc.listed({"status": "all", "optout_after": "2020-01-01T00:00:00-05:00", "limit": 500})

    assert ids(members) == ids([c for c in truth["contacts"].values() if list_id in c["list_memberships"]])
    expected = [
        c for c in truth["contacts"].values() if c["email_address"].get("opt_out_date", "") >= "2020-01-01T05"
    ]
    assert ids(opted_out) == ids(expected) and expected


async def test_include_adds_exactly_the_named_subresources(cc: ConstantContact) -> None:
    plain = await cc.ok("/v3/contacts", {"limit": 5})
    with_lists = await cc.ok("/v3/contacts", {"limit": 5, "include": "list_memberships,notes"})

    assert all("list_memberships" not in c and "notes" not in c for c in plain["contacts"])
    assert all(
        {"list_memberships", "notes"} <= set(c) and "taggings" not in c for c in with_lists["contacts"]
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit must be an integer from 1 through 500."),
        ({"limit": 501}, "limit must be an integer from 1 through 500."),
        ({"limit": "ten"}, "limit must be an integer from 1 through 500."),
        ({"limit": "-1"}, "limit must be an integer from 1 through 500."),
        (
            {"status": "gone"},
            "status must be a comma-separated list of: "
            "all, active, deleted, not_set, pending_confirmation, temp_hold, unsubscribed.",
        ),
        (
            {"include": "list_memberships,friends"},
            "include must be a comma-separated list of: "
            "custom_fields, list_memberships, phone_numbers, street_addresses, taggings, notes.",
        ),
        ({"include_count": "yes"}, "include_count must be true or false."),
        ({"updated_after": "last tuesday"}, "updated_after must be an ISO-8601 date-time."),
        ({"lists": "abc"}, "lists must be a comma-separated list of ids."),
        ({"segment_id": "14"}, "segment_id is not supported by this emulator (it has no segments)."),
    ],
)
async def test_bad_parameters_are_400s_in_constant_contacts_error_shape(
    cc: ConstantContact, params: dict[str, Any], message: str
) -> None:
    response = await cc.get("/v3/contacts", params)

    assert response.status_code == 400
    assert response.json() == [{"error_key": "contacts.api.validation.error", "error_message": message}]


async def test_several_bad_parameters_are_reported_together(cc: ConstantContact) -> None:
    response = await cc.get("/v3/contacts", {"limit": 0, "status": "x", "created_before": "y"})

    assert response.status_code == 400
    assert len(response.json()) == 3


@pytest.mark.parametrize("query", ["email=", "email=%20", "status=deleted&email=", "lists=", "cursor="])
async def test_an_empty_parameter_is_refused_not_read_as_no_filter(cc: ConstantContact, query: str) -> None:
    """The least forgiving reading of what CC leaves undocumented: a client sending ``email=`` fails."""
    response = await cc.get(f"/v3/contacts?{query}")

    assert response.status_code == 400
    assert response.json()[0]["error_key"] == "contacts.api.validation.error"


@pytest.mark.parametrize("path", ["/v3/contacts/", "/v3/contacts/%2E", "/v3/contacts/%2E%2E"])
async def test_an_empty_or_dot_contact_id_is_not_found(cc: ConstantContact, path: str) -> None:
    before = await cc.ground_truth()
    assert (await cc.get(path)).status_code == 404
    assert (await cc.delete(path)).status_code == 404
    assert await cc.ground_truth() == before


# -- contact lists -------------------------------------------------------------------------------------


async def test_contact_lists_page_with_counts_and_find_by_name(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    first = await cc.ok(
        "/v3/contact_lists", {"limit": 5, "include_count": "true", "include_membership_count": "all"}
    )
    rest = await cc.ok(first["_links"]["next"]["href"])
    named = await cc.ok("/v3/contact_lists", {"name": "Customers"})
    sms = await cc.ok("/v3/contact_lists", {"channel_type": "sms"})
    bad = await cc.get("/v3/contact_lists", {"limit": 1001})

    lists = first["lists"] + rest["lists"]
    assert [item["list_id"] for item in lists] == list(truth["lists"]) and "_links" not in rest
    assert first["lists_count"] == len(truth["lists"]) == 8
    assert {item["list_id"]: item["membership_count"] for item in first["lists"]} == {
        list_id: item["membership_count"] for list_id, item in list(truth["lists"].items())[:5]
    }
    assert [item["name"] for item in named["lists"]] == ["Customers"] and sms == {"lists": []}
    assert bad.status_code == 400

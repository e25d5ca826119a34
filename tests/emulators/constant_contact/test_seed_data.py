"""The seeded account: deterministic, realistic, consistent, and overlapping with GetResponse's."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_getresponse

from .conftest import SMALL_ACCOUNT, ConstantContact, contacts_with

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PERMISSIONS = {"explicit", "implicit", "not_set", "pending_confirmation", "temp_hold", "unsubscribed"}


@pytest.fixture(scope="module")
def default_truth() -> dict[str, Any]:
    truth: dict[str, Any] = create_app(ConstantContactEmulatorSettings()).state.store.ground_truth()
    return truth


def test_the_same_seed_builds_the_same_account_and_another_seed_does_not() -> None:
    first = create_app(SMALL_ACCOUNT).state.store.ground_truth()
    again = create_app(SMALL_ACCOUNT).state.store.ground_truth()
    other = create_app(ConstantContactEmulatorSettings(seed=12, contacts=400)).state.store.ground_truth()

    assert first == again
    assert first["contacts"] != other["contacts"]


def test_the_defaults_seed_1000_contacts_300_of_them_deleted_in_8_lists(
    default_truth: dict[str, Any],
) -> None:
    statuses = Counter(contact["status"] for contact in default_truth["contacts"].values())

    assert len(default_truth["contacts"]) == 1000 and statuses["deleted"] == 300
    assert len(default_truth["lists"]) == 8
    assert len({item["name"] for item in default_truth["lists"].values()}) == 8


def test_a_fifth_of_the_addresses_are_shared_with_the_getresponse_emulator() -> None:
    cc = create_app(ConstantContactEmulatorSettings(seed=5, contacts=500)).state.store.ground_truth()
    gr = create_getresponse(GetResponseEmulatorSettings(seed=5, contacts=500)).state.store.ground_truth()
    cc_emails = {c["email_address"]["address"] for c in cc["contacts"].values()}
    gr_emails = {c["email"] for c in gr["contacts"].values()} | {r["email"] for r in gr["deleted"]}

    shared = {e.casefold() for e in cc_emails} & {e.casefold() for e in gr_emails}
    exact = cc_emails & gr_emails

    assert 90 <= len(shared) <= 100
    assert len(exact) < len(shared)  # some shared addresses differ in case between the providers


def test_names_and_addresses_are_awkward_on_purpose(default_truth: dict[str, Any]) -> None:
    contacts = list(default_truth["contacts"].values())
    addresses = [c["email_address"]["address"] for c in contacts]
    names = [f"{c.get('first_name', '')} {c.get('last_name', '')}" for c in contacts]

    assert any(not name.isascii() for name in names)
    assert any("+" in address for address in addresses)
    assert any(address != address.lower() for address in addresses)
    assert any(address == address.lower() for address in addresses)
    assert len({address.casefold() for address in addresses}) == len(addresses)
    assert any("last_name" not in c for c in contacts) and any("job_title" in c for c in contacts)


def test_deletions_span_several_years_with_date_only_deleted_at(default_truth: dict[str, Any]) -> None:
    deleted = contacts_with(default_truth, "deleted")
    years = Counter(c["deleted_at"][:4] for c in deleted)

    assert set(years) == {str(year) for year in range(2019, 2027)}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["deleted_at"]) for c in deleted)
    assert all(c["list_memberships"] == [] for c in deleted)
    assert all("deleted_at" not in c for c in default_truth["contacts"].values() if c["status"] != "deleted")


def test_every_permission_occurs_among_live_and_among_deleted_contacts(default_truth: dict[str, Any]) -> None:
    contacts = list(default_truth["contacts"].values())
    deleted = contacts_with(default_truth, "deleted")
    live = [c for c in contacts if c["status"] != "deleted"]
    unsubscribed_deleted = [c for c in deleted if c["email_address"]["permission_to_send"] == "unsubscribed"]

    assert {c["email_address"]["permission_to_send"] for c in deleted} == PERMISSIONS
    assert {c["email_address"]["permission_to_send"] for c in live} == PERMISSIONS
    assert {c["email_address"]["opt_out_source"] for c in unsubscribed_deleted} == {"Contact", "Account"}
    assert any("opt_out_reason" in c["email_address"] for c in unsubscribed_deleted)
    assert (
        {c["create_source"] for c in contacts}
        == {c["update_source"] for c in contacts}
        == {"Contact", "Account"}
    )
    assert {c["email_address"]["confirm_status"] for c in contacts} == {"pending", "confirmed", "off"}


def test_timestamps_are_consistent(default_truth: dict[str, Any]) -> None:
    for contact in default_truth["contacts"].values():
        created, updated = (datetime.fromisoformat(contact[key]) for key in ("created_at", "updated_at"))
        email = contact["email_address"]
        assert created <= updated
        assert (
            datetime.fromisoformat(email["created_at"])
            <= datetime.fromisoformat(email["updated_at"])
            <= updated
        )
        if "deleted_at" in contact:
            assert created.date().isoformat() <= contact["deleted_at"] <= contact["updated_at"][:10]
        if "opt_out_date" in email:
            assert created <= datetime.fromisoformat(email["opt_out_date"]) <= updated


def test_creation_order_is_listing_order(default_truth: dict[str, Any]) -> None:
    created = [c["created_at"] for c in default_truth["contacts"].values()]

    assert created == sorted(created)


def test_ids_are_unique_uuids(default_truth: dict[str, Any]) -> None:
    ids = [*default_truth["contacts"], *default_truth["lists"]]

    assert all(UUID.fullmatch(identifier) for identifier in ids) and len(set(ids)) == len(ids)


def test_live_contacts_are_mostly_in_lists(default_truth: dict[str, Any]) -> None:
    live = [c for c in default_truth["contacts"].values() if c["status"] not in ("deleted", "unsubscribed")]
    in_lists = [c for c in live if c["list_memberships"]]

    assert 0.9 < len(in_lists) / len(live) < 1
    assert {len(c["list_memberships"]) for c in in_lists} == {1, 2, 3}
    counts = Counter(list_id for c in live for list_id in c["list_memberships"])
    assert {item["membership_count"] for item in default_truth["lists"].values()} == {
        counts[list_id] for list_id in default_truth["lists"]
    }


async def test_reset_restores_the_seeded_account(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    deleted, live = contacts_with(truth, "deleted")[0], contacts_with(truth, "active")[0]
    list_id = next(iter(truth["lists"]))
    await cc.delete(f"/v3/contacts/{live['contact_id']}")
    await cc.post("/v3/contacts", {"create_source": "Account", "first_name": "New"})
    await cc.post(
        "/v3/activities/add_list_memberships",
        {"source": {"contact_ids": [deleted["contact_id"]]}, "list_ids": [list_id]},
    )
    await cc.advance_clock(86400)

    assert (await cc.http.post("/_emulator/reset")).json() == {"reset": True}

    assert await cc.ground_truth() == truth
    assert await cc.operations() == {}

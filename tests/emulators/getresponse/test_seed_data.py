"""The seeded account: deterministic, and rich enough to exercise every documented corner."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app

from .conftest import SMALL_ACCOUNT, GetResponse

GENERAL = {
    "unsubscribe",
    "user",
    "support",
    "automation",
    "complaint",
    "blacklisted",
    "api",
    "bounce",
    "other",
}
SPECIFIC = {
    "automation::remove-on-remove",
    "automation::remove-on-sale",
    "automation::remove-on-subscribe",
    "bounce::mailbox_full",
    "bounce::other_hard",
    "bounce::other_soft",
    "bounce::user_unknown",
    "bounce::user_recycled",
}
ORIGINS = {
    "import",
    "email",
    "www",
    "panel",
    "leads",
    "sale",
    "api",
    "forward",
    "survey",
    "iphone",
    "copy",
    "landing_page",
}
SHORT_ID = re.compile(r"[0-9A-Za-z]{5}")


@pytest.fixture
async def truth(gr: GetResponse) -> dict[str, Any]:
    return await gr.ground_truth()


def test_the_same_seed_builds_the_same_account_and_another_seed_does_not() -> None:
    first = create_app(SMALL_ACCOUNT).state.store.ground_truth()
    again = create_app(SMALL_ACCOUNT).state.store.ground_truth()
    other = create_app(GetResponseEmulatorSettings(seed=12, contacts=400)).state.store.ground_truth()

    assert first == again
    assert first["deleted"] != other["deleted"]


async def test_the_ground_truth_has_the_documented_sections(truth: dict[str, Any]) -> None:
    assert set(truth) == {"campaigns", "messages", "contacts", "queued", "deleted"}
    assert set(truth["deleted"][0]) == {
        "contact_id", "campaign", "message", "email", "name", "origin", "ip", "cycle_day", "reason",
        "created_on", "deleted_on",
    }  # fmt: skip
    assert truth["queued"] == []


async def test_record_counts_follow_the_settings(truth: dict[str, Any]) -> None:
    removals = round(SMALL_ACCOUNT.contacts * SMALL_ACCOUNT.deleted_fraction)

    assert len(truth["deleted"]) == removals
    assert len(truth["contacts"]) + len(truth["deleted"]) == SMALL_ACCOUNT.contacts
    assert len(truth["campaigns"]) == SMALL_ACCOUNT.campaigns
    assert len(truth["messages"]) == SMALL_ACCOUNT.campaigns * SMALL_ACCOUNT.messages_per_campaign


async def test_every_reason_occurs_and_results_show_only_general_reasons(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    stored = Counter(removal["reason"] for removal in truth["deleted"])
    listed = await gr.result("get_contacts_deleted")

    assert set(stored) == GENERAL | SPECIFIC
    assert {entry["reason"] for entry in listed.values()} == GENERAL


async def test_removals_span_2019_to_2026_and_follow_creation(truth: dict[str, Any]) -> None:
    years = {removal["deleted_on"][:4] for removal in truth["deleted"]}

    assert years == {str(year) for year in range(2019, 2027)}
    assert all(r["created_on"] < r["deleted_on"] for r in truth["deleted"])
    assert all("2019-01-01" <= r["deleted_on"][:10] <= "2026-10-31" for r in truth["deleted"])


async def test_field_values_cover_nulls_numbers_origins_and_messages(truth: dict[str, Any]) -> None:
    removals = truth["deleted"]
    message_types = {message["type"] for message in truth["messages"].values()}

    assert {r["origin"] for r in removals} <= ORIGINS and len({r["origin"] for r in removals}) > 6
    assert any(r["ip"] is None for r in removals) and any(r["ip"] for r in removals)
    assert any(r["cycle_day"] is None for r in removals) and any(
        isinstance(r["cycle_day"], int) for r in removals
    )
    assert any(r["message"] is None for r in removals) and any(r["message"] for r in removals)
    assert message_types == {"newsletter", "autoresponder", "ab_test", "draft"}
    assert any(m["name"] is None for m in truth["messages"].values())


async def test_names_are_unique_and_ids_are_short_opaque_and_unique(truth: dict[str, Any]) -> None:
    names = [campaign["name"] for campaign in truth["campaigns"].values()]
    ids = [
        *truth["campaigns"],
        *truth["messages"],
        *truth["contacts"],
        *(r["contact_id"] for r in truth["deleted"]),
    ]

    assert len(set(names)) == len(names) and "shop_newsletter" in names
    assert all(SHORT_ID.fullmatch(identifier) for identifier in ids)
    assert len(set(ids)) == len(ids)


async def test_some_addresses_are_in_two_campaigns_and_some_were_removed_twice(truth: dict[str, Any]) -> None:
    campaigns_per_address = Counter(contact["email"].casefold() for contact in truth["contacts"].values())
    removals_per_pair = Counter((r["campaign"], r["email"].casefold()) for r in truth["deleted"])

    assert max(campaigns_per_address.values()) >= 2
    assert max(removals_per_pair.values()) == 2


async def test_reset_restores_the_seeded_account(gr: GetResponse, truth: dict[str, Any]) -> None:
    contact_id = next(iter(truth["contacts"]))
    campaign_id = next(iter(truth["campaigns"]))
    await gr.result("delete_contact", {"contact": contact_id})
    await gr.result("add_contact", {"campaign": campaign_id, "email": "later@example.com"})
    await gr.result("set_account_callbacks", {"uri": "http://example.com/cb", "actions": ["unsubscribe"]})
    await gr.advance_clock(86400)

    assert (await gr.http.post("/_emulator/reset")).json() == {"reset": True}

    assert await gr.ground_truth() == truth
    assert await gr.result("get_account_callbacks") == {}
    assert (await gr.request_log())["operations"] == {"get_account_callbacks": 1}

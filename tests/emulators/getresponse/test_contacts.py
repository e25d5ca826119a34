"""Contact, campaign and message methods: lookups, delete, add (queued), move, and their errors."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import SMALL_ACCOUNT, GetResponse


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _emulator_now(gr: GetResponse) -> datetime:
    now: datetime = gr.app.state.control.clock.now()
    return now


def _close_to(timestamp: str, moment: datetime, seconds: float = 5) -> bool:
    parsed = datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return abs((parsed - moment).total_seconds()) <= seconds


@pytest.fixture
async def truth(gr: GetResponse) -> dict[str, Any]:
    return await gr.ground_truth()


async def test_ping_pongs(gr: GetResponse) -> None:
    assert await gr.result("ping") == {"ping": "pong"}


# -- campaigns and messages -----------------------------------------------------------------------------


async def test_get_campaigns_lists_every_campaign_and_filters_by_name(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    everything = await gr.result("get_campaigns")
    shop = await gr.result("get_campaigns", {"name": {"EQUALS": "Shop_Newsletter"}})
    underscored = await gr.result("get_campaigns", {"name": {"CONTAINS": "%\\_%"}})

    assert everything == truth["campaigns"]
    assert len({c["name"] for c in everything.values()}) == len(everything)
    assert [c["name"] for c in shop.values()] == ["shop_newsletter"]
    assert underscored == {}  # no escape character: "\" is literal and no name contains one


async def test_get_campaign_answers_one_campaign_or_missing_campaign(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    campaign_id, campaign = next(iter(truth["campaigns"].items()))

    assert await gr.result("get_campaign", {"campaign": campaign_id}) == {campaign_id: campaign}
    assert await gr.error("get_campaign", {"campaign": "nope0"}) == {
        "code": -1,
        "message": "Missing campaign",
    }
    assert (await gr.error("get_campaign", {}))["code"] == -32602


async def test_get_messages_defaults_to_newsletters_and_autoresponders(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    default = await gr.result("get_messages")
    drafts = await gr.result("get_messages", {"type": "draft"})

    assert {m["type"] for m in default.values()} == {"newsletter", "autoresponder"}
    assert set(default) == {
        mid for mid, m in truth["messages"].items() if m["type"] in ("newsletter", "autoresponder")
    }
    assert drafts and {m["type"] for m in drafts.values()} == {"draft"}
    assert all("send_on" in m for m in default.values() if m["type"] == "newsletter")
    assert (await gr.error("get_messages", {"type": "sms"}))["code"] == -32602


async def test_get_messages_filters_by_campaign_subject_and_name(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    campaign_id = next(iter(truth["campaigns"]))

    in_campaign = await gr.result("get_messages", {"campaigns": [campaign_id]})
    welcome = await gr.result("get_messages", {"subject": {"CONTAINS": "welcome%"}})
    named_days = await gr.result("get_messages", {"name": {"CONTAINS": "%\\_day\\_%"}})
    days = await gr.result("get_messages", {"name": {"CONTAINS": "%_day_%"}})

    assert in_campaign and {m["campaign"] for m in in_campaign.values()} == {campaign_id}
    assert welcome and all(m["subject"].lower().startswith("welcome") for m in welcome.values())
    assert named_days == {}
    autoresponders = {mid for mid, m in truth["messages"].items() if m["type"] == "autoresponder"}
    assert autoresponders <= set(days)  # "_" is a wildcard: "friday" matches too
    assert all("day" in m["name"][1:-1] for m in days.values())


async def test_get_message_answers_one_message_or_missing_message(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    message_id, message = next(iter(truth["messages"].items()))

    assert await gr.result("get_message", {"message": message_id}) == {message_id: message}
    assert await gr.error("get_message", {"message": "nope0"}) == {"code": -1, "message": "Missing message"}


# -- get_contacts / get_contact ------------------------------------------------------------------------


async def test_get_contacts_filters_by_campaign_email_name_and_creation_day(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    contacts = truth["contacts"]
    campaign_id = next(iter(truth["campaigns"]))
    conditions = {
        "campaigns": [campaign_id],
        "email": {"CONTAINS": "%example.com"},
        "name": {"NOT_CONTAINS": "%a%"},
        "created_on": {"FROM": "2018-01-01"},
    }

    result = await gr.result("get_contacts", conditions)

    expected = {
        cid
        for cid, c in contacts.items()
        if c["campaign"] == campaign_id
        and c["email"].lower().endswith("example.com")
        and "a" not in c["name"].casefold()
        and c["created_on"][:10] >= "2018-01-01"
    }
    assert expected
    assert result == {cid: contacts[cid] for cid in expected}


async def test_get_contacts_filters_by_origin_and_cycle_day(gr: GetResponse, truth: dict[str, Any]) -> None:
    inactive = await gr.result("get_contacts", {"cycle_day": {"EQUALS": None}})
    early = await gr.result(
        "get_contacts", {"cycle_day": {"LESS": 10, "GREATER_OR_EQUALS": "2"}, "origin": "www"}
    )

    assert set(inactive) == {cid for cid, c in truth["contacts"].items() if c["cycle_day"] is None}
    assert set(early) == {
        cid
        for cid, c in truth["contacts"].items()
        if c["origin"] == "www" and c["cycle_day"] is not None and 2 <= c["cycle_day"] < 10
    }
    assert (await gr.error("get_contacts", {"origin": "fax"}))["code"] == -32602


@pytest.mark.parametrize("order_by", ["name", "email", "origin", "created_on"])
@pytest.mark.parametrize("direction", ["ascending", "descending"])
async def test_the_pager_returns_unordered_chunks_of_the_ordered_list(
    gr: GetResponse, truth: dict[str, Any], order_by: str, direction: str
) -> None:
    contacts = truth["contacts"]

    def key(cid: str) -> tuple[str, str]:
        value = contacts[cid][order_by]
        return (value if order_by == "created_on" else _fold(value)), cid

    ordered = sorted(contacts, key=key, reverse=direction == "descending")
    pages = []
    for offset in range(0, 60, 20):
        pager = {"order_by": order_by, "direction": direction, "limit": 20, "offset": offset}
        pages.append(await gr.result("get_contacts", {"pager": pager}))

    for number, page in enumerate(pages):
        assert len(page) == 20
        assert set(page) == set(ordered[number * 20 : (number + 1) * 20])
    assert any(list(page) != sorted(page, key=key, reverse=direction == "descending") for page in pages)


@pytest.mark.parametrize(
    "conditions",
    [
        {"pager": {"order_by": "cycle_day"}},
        {"pager": {"direction": "up"}},
        {"pager": {"limit": 0}},
        {"pager": {"offset": -1}},
        {"pager": {"limit": "10"}},
        {"pager": {"page": 2}},
        {"pager": []},
        {"customs": [{"name": "x", "content": {"EQUALS": "y"}}]},
        {"segmentation": {"split": 3, "pack": 1}},
        {"unknown": 1},
    ],
)
async def test_bad_or_unsupported_get_contacts_conditions_are_invalid_params(
    gr: GetResponse, conditions: Any
) -> None:
    error = await gr.error("get_contacts", conditions)

    assert error["code"] == -32602
    assert isinstance(error["data"], str)


async def test_get_contact_answers_the_contact(gr: GetResponse, truth: dict[str, Any]) -> None:
    contact_id, contact = next(iter(truth["contacts"].items()))

    assert await gr.result("get_contact", {"contact": contact_id}) == {contact_id: contact}


@pytest.mark.parametrize("gr_settings", [replace(SMALL_ACCOUNT, get_contact_missing_as_empty=True)])
async def test_get_contact_can_answer_an_empty_object_for_a_missing_id(gr: GetResponse) -> None:
    assert await gr.result("get_contact", {"contact": "nope0"}) == {}


# -- delete_contact ------------------------------------------------------------------------------------


async def test_a_deleted_contact_is_listed_with_reason_api_and_is_missing_everywhere_else(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    contact_id, contact = next(iter(truth["contacts"].items()))
    other_campaign = next(cid for cid in truth["campaigns"] if cid != contact["campaign"])

    assert await gr.result("delete_contact", {"contact": contact_id}) == {"deleted": 1}

    listed = await gr.result("get_contacts_deleted", {"reason": "api"})
    entry = listed[contact_id]
    assert entry["reason"] == "api"
    assert "message" not in entry
    assert (entry["email"], entry["campaign"], entry["created_on"]) == (
        contact["email"],
        contact["campaign"],
        contact["created_on"],
    )
    assert _close_to(entry["deleted_on"], _emulator_now(gr))
    missing = {"code": -1, "message": "Missing contact"}
    assert await gr.error("get_contact", {"contact": contact_id}) == missing
    assert await gr.error("delete_contact", {"contact": contact_id}) == missing
    assert await gr.error("move_contact", {"contact": contact_id, "campaign": other_campaign}) == missing
    assert contact_id not in await gr.result("get_contacts")


async def test_deleted_on_follows_the_emulator_clock(gr: GetResponse, truth: dict[str, Any]) -> None:
    contact_id = next(iter(truth["contacts"]))
    await gr.advance_clock(3 * 86400)

    await gr.result("delete_contact", {"contact": contact_id})

    entry = (await gr.result("get_contacts_deleted", {"reason": "api"}))[contact_id]
    assert _close_to(entry["deleted_on"], datetime.now(UTC) + timedelta(days=3))


async def test_delete_contact_can_attribute_the_removal_to_a_message(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    contact_id = next(iter(truth["contacts"]))
    message_id = next(iter(truth["messages"]))

    assert await gr.error("delete_contact", {"contact": contact_id, "message": "nope0"}) == {
        "code": -1,
        "message": "Missing message",
    }
    await gr.result("delete_contact", {"contact": contact_id, "message": message_id})

    entry = (await gr.result("get_contacts_deleted", {"messages": [message_id]}))[contact_id]
    assert entry["message"] == message_id


async def test_delete_contact_needs_a_contact_id(gr: GetResponse) -> None:
    for conditions in ({}, {"contact": 5}, {"contact": "x", "extra": 1}):
        assert (await gr.error("delete_contact", conditions))["code"] == -32602


# -- add_contact ---------------------------------------------------------------------------------------


async def test_an_added_contact_is_queued_and_appears_only_after_the_confirmation_delay(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    campaign_id = next(iter(truth["campaigns"]))
    new = {"campaign": campaign_id, "email": "new.person@example.org", "name": "New Person", "cycle_day": 0}

    assert await gr.result("add_contact", new) == {"queued": 1}

    queued_truth = await gr.ground_truth()
    assert [q["email"] for q in queued_truth["queued"]] == ["new.person@example.org"]
    assert await gr.result("get_contacts", {"email": {"EQUALS": "new.person@example.org"}}) == {}
    await gr.advance_clock(SMALL_ACCOUNT.confirmation_delay_seconds - 5)
    assert await gr.result("get_contacts", {"email": {"EQUALS": "new.person@example.org"}}) == {}
    await gr.advance_clock(10)
    appeared = await gr.result("get_contacts", {"email": {"EQUALS": "NEW.PERSON@example.org"}})

    assert len(appeared) == 1
    contact_id, contact = next(iter(appeared.items()))
    assert contact_id not in truth["contacts"]
    assert (contact["campaign"], contact["name"], contact["origin"], contact["cycle_day"]) == (
        campaign_id,
        "New Person",
        "api",
        0,
    )
    assert (await gr.ground_truth())["queued"] == []


async def test_re_adding_a_deleted_address_creates_a_new_contact_id(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    removal = truth["deleted"][0]
    if removal["email"].casefold() in {
        c["email"].casefold() for c in truth["contacts"].values() if c["campaign"] == removal["campaign"]
    }:
        pytest.fail("the first seeded removal should not be active again")

    await gr.result("add_contact", {"campaign": removal["campaign"], "email": removal["email"]})
    await gr.advance_clock(SMALL_ACCOUNT.confirmation_delay_seconds + 1)
    found = await gr.result(
        "get_contacts", {"email": {"EQUALS": removal["email"]}, "campaigns": [removal["campaign"]]}
    )

    assert len(found) == 1
    new_id = next(iter(found))
    assert new_id != removal["contact_id"]
    assert found[new_id]["name"] == ""
    assert await gr.error("get_contact", {"contact": removal["contact_id"]}) == {
        "code": -1,
        "message": "Missing contact",
    }


async def test_add_contact_errors_use_getresponses_messages(gr: GetResponse, truth: dict[str, Any]) -> None:
    contact = next(iter(truth["contacts"].values()))
    campaign_id = contact["campaign"]

    async def add_error(**fields: Any) -> dict[str, Any]:
        return await gr.error("add_contact", {"campaign": campaign_id, "email": "x.y@example.com", **fields})

    assert await add_error(campaign="nope0") == {"code": -1, "message": "Missing campaign"}
    for bad in ("no-at-sign", "two@@example.com", "spaces in@example.com", "dot@nodot", "a@b.c" + "o" * 260):
        assert await add_error(email=bad) == {"code": -1, "message": "Invalid email syntax"}
    assert await add_error(email=contact["email"].upper()) == {
        "code": -1,
        "message": "Contact already added to target campaign",
    }
    assert await gr.result("add_contact", {"campaign": campaign_id, "email": "x.y@example.com"}) == {
        "queued": 1
    }
    assert await add_error(email="X.Y@example.com") == {
        "code": -1,
        "message": "Contact already queued for target campaign",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"campaign": None},
        {"email": None},
        {"cycle_day": -1},
        {"cycle_day": 10001},
        {"cycle_day": "3"},
        {"ip": "300.1.1.1"},
        {"ip": "fe80::1"},
        {"customs": [{"name": "Bad-Name", "content": "x"}]},
        {"customs": [{"name": "ok", "content": "x" * 256}]},
        {"customs": {"name": "ok", "content": "x"}},
        {"colour": "blue"},
    ],
)
async def test_malformed_add_contact_params_are_invalid_params(
    gr: GetResponse, truth: dict[str, Any], fields: dict[str, Any]
) -> None:
    conditions = {"campaign": next(iter(truth["campaigns"])), "email": "fine@example.com", **fields}
    conditions = {key: value for key, value in conditions.items() if value is not None}

    assert (await gr.error("add_contact", conditions))["code"] == -32602


async def test_add_contact_accepts_the_documented_optional_fields(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    conditions = {
        "campaign": next(iter(truth["campaigns"])),
        "email": "full@example.com",
        "name": "Full",
        "cycle_day": 10000,
        "ip": "2001:0db8:0000:0000:0000:ff00:0042:8329",
        "customs": [{"name": "likes_to_drink", "content": "tea"}],
        "action": "standard",
    }

    assert await gr.result("add_contact", conditions) == {"queued": 1}
    queued = (await gr.ground_truth())["queued"][0]
    assert queued["customs"] == {"likes_to_drink": "tea"}


# -- move_contact --------------------------------------------------------------------------------------


async def test_move_contact_moves_and_refuses_duplicates(gr: GetResponse, truth: dict[str, Any]) -> None:
    contact_id, contact = next(iter(truth["contacts"].items()))
    target = next(cid for cid in truth["campaigns"] if cid != contact["campaign"])

    assert await gr.error("move_contact", {"contact": contact_id, "campaign": contact["campaign"]}) == {
        "code": -1,
        "message": "Contact already exists in target campaign",
    }
    assert await gr.error("move_contact", {"contact": contact_id, "campaign": "nope0"}) == {
        "code": -1,
        "message": "Missing campaign",
    }
    assert await gr.result("move_contact", {"contact": contact_id, "campaign": target}) == {"updated": 1}

    moved = (await gr.result("get_contact", {"contact": contact_id}))[contact_id]
    assert moved["campaign"] == target
    assert moved["changed_on"] is not None
    await gr.result("add_contact", {"campaign": contact["campaign"], "email": contact["email"]})
    await gr.advance_clock(SMALL_ACCOUNT.confirmation_delay_seconds + 1)
    back_in_source = await gr.result(
        "get_contacts", {"campaigns": [contact["campaign"]], "email": {"EQUALS": contact["email"]}}
    )
    assert len(back_in_source) == 1
    assert await gr.error("move_contact", {"contact": next(iter(back_in_source)), "campaign": target}) == {
        "code": -1,
        "message": "Contact already exists in target campaign",
    }


@pytest.mark.parametrize("method", ["get_contacts", "get_contacts_deleted"])
@pytest.mark.parametrize("address", ["", "  "])
async def test_an_empty_equals_address_is_invalid_params(gr: GetResponse, method: str, address: str) -> None:
    """Neither "matches nothing" nor "no filter": a client that would send one fails loudly."""
    error = await gr.error(method, {"email": {"EQUALS": address}})
    assert error["code"] == -32602 and "EQUALS" in error["data"]
    assert await gr.result(method, {"email": {"NOT_EQUALS": ""}})  # other operators read it literally

"""``get_contacts_deleted``: each documented condition on hand-picked cases from the ground truth."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app

from .conftest import SMALL_ACCOUNT, GetResponse


def newest_per_campaign_and_address(deleted: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for removal in deleted:
        key = (removal["campaign"], removal["email"].casefold())
        if key not in newest or removal["deleted_on"] > newest[key]["deleted_on"]:
            newest[key] = removal
    return {removal["contact_id"]: removal for removal in newest.values()}


def _shifted(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


@pytest.fixture
async def truth(gr: GetResponse) -> dict[str, Any]:
    return await gr.ground_truth()


# -- reasons -------------------------------------------------------------------------------------------


async def test_a_sub_reason_filter_finds_exactly_that_sub_reason_but_shows_the_general_one(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    expected = {cid for cid, removal in listed.items() if removal["reason"] == "bounce::mailbox_full"}
    assert expected

    result = await gr.result("get_contacts_deleted", {"reason": "bounce::mailbox_full"})

    assert set(result) == expected
    assert {entry["reason"] for entry in result.values()} == {"bounce"}


async def test_a_general_reason_covers_its_sub_reasons_and_removals_without_one(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    stored = {removal["reason"] for removal in listed.values() if removal["reason"].startswith("automation")}
    assert "automation" in stored and len(stored) > 2

    result = await gr.result("get_contacts_deleted", {"reason": "automation"})

    assert set(result) == {cid for cid, r in listed.items() if r["reason"].split("::")[0] == "automation"}


@pytest.mark.parametrize("reason", ["bounced", "BOUNCE", "bounce::", "bounce::unknown", ["bounce"], 3])
async def test_an_undocumented_reason_is_invalid_params(gr: GetResponse, reason: Any) -> None:
    error = await gr.error("get_contacts_deleted", {"reason": reason})

    assert error["code"] == -32602
    assert error["data"].startswith("reason must be one of")


# -- one entry per campaign and address ---------------------------------------------------------------


async def test_an_address_removed_twice_from_a_campaign_is_listed_once_with_the_newest_removal(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for removal in truth["deleted"]:
        by_pair.setdefault((removal["campaign"], removal["email"].casefold()), []).append(removal)
    twice = [
        sorted(removals, key=lambda r: r["deleted_on"]) for removals in by_pair.values() if len(removals) > 1
    ]
    assert twice, "the seed should remove some addresses twice from the same campaign"

    result = await gr.result("get_contacts_deleted")

    for older, newer in twice:
        assert newer["contact_id"] in result
        assert result[newer["contact_id"]]["deleted_on"] == newer["deleted_on"]
        assert older["contact_id"] not in result
    # Conditions apply to the newest removal: the older one's day does not bring it back.
    older, newer = twice[0]
    day = older["deleted_on"][:10]
    on_that_day = await gr.result("get_contacts_deleted", {"deleted_on": {"AT": day}})
    assert older["contact_id"] not in on_that_day


# -- campaigns and messages -----------------------------------------------------------------------------


async def test_campaign_ids_and_nested_campaign_names_are_ored(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    by_name = {campaign["name"]: cid for cid, campaign in truth["campaigns"].items()}
    first, second = by_name["shop_newsletter"], by_name["product_updates"]

    both = await gr.result(
        "get_contacts_deleted",
        {"campaigns": [first], "get_campaigns": {"name": {"EQUALS": "PRODUCT_UPDATES"}}},
    )
    only_ids = await gr.result("get_contacts_deleted", {"campaigns": [first, "nope0"]})

    assert set(both) == {cid for cid, r in listed.items() if r["campaign"] in (first, second)}
    assert set(only_ids) == {cid for cid, r in listed.items() if r["campaign"] == first}
    assert set(only_ids) < set(both)


async def test_an_empty_campaign_list_matches_nothing(gr: GetResponse) -> None:
    assert await gr.result("get_contacts_deleted", {"campaigns": []}) == {}


async def test_a_message_filter_finds_only_removals_attributed_to_those_messages(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    message_id = next(r["message"] for r in listed.values() if r["message"] is not None)

    result = await gr.result("get_contacts_deleted", {"messages": [message_id]})

    assert set(result) == {cid for cid, r in listed.items() if r["message"] == message_id}
    assert {entry["message"] for entry in result.values()} == {message_id}


async def test_nested_get_messages_defaults_to_newsletters_and_autoresponders(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    types = {mid: message["type"] for mid, message in truth["messages"].items()}
    assert any(r["message"] and types[r["message"]] == "ab_test" for r in listed.values())

    default = await gr.result("get_contacts_deleted", {"get_messages": {}})
    ab_tests = await gr.result("get_contacts_deleted", {"get_messages": {"type": "ab_test"}})

    assert set(default) == {
        cid
        for cid, r in listed.items()
        if r["message"] and types[r["message"]] in ("newsletter", "autoresponder")
    }
    assert set(ab_tests) == {
        cid for cid, r in listed.items() if r["message"] and types[r["message"]] == "ab_test"
    }


# -- text operators -------------------------------------------------------------------------------------


async def test_contains_is_like_and_needs_a_wildcard_to_match_part_of_an_address(
    gr: GetResponse, truth: dict[str, Any]
) -> None:
    removal = next(iter(newest_per_campaign_and_address(truth["deleted"]).values()))
    email = removal["email"]
    local, domain = email.split("@")

    assert removal["contact_id"] in await gr.result(
        "get_contacts_deleted", {"email": {"CONTAINS": email.upper()}}
    )
    assert removal["contact_id"] not in await gr.result(
        "get_contacts_deleted", {"email": {"CONTAINS": local}}
    )
    assert removal["contact_id"] in await gr.result(
        "get_contacts_deleted", {"email": {"CONTAINS": f"{local}%"}}
    )
    one_char = f"_{email[1:]}"
    assert removal["contact_id"] in await gr.result("get_contacts_deleted", {"email": {"CONTAINS": one_char}})
    not_ours = await gr.result("get_contacts_deleted", {"email": {"NOT_CONTAINS": f"%@{domain}"}})
    assert removal["contact_id"] not in not_ours
    assert all(not entry["email"].lower().endswith(f"@{domain.lower()}") for entry in not_ours.values())


async def test_equals_is_literal_and_case_insensitive(gr: GetResponse, truth: dict[str, Any]) -> None:
    removal = next(iter(newest_per_campaign_and_address(truth["deleted"]).values()))
    email = removal["email"]

    exact = await gr.result("get_contacts_deleted", {"email": {"EQUALS": email.swapcase()}})
    wildcard = await gr.result("get_contacts_deleted", {"email": {"EQUALS": "%" + email[1:]}})
    others = await gr.result("get_contacts_deleted", {"email": {"NOT_EQUALS": email}})

    assert removal["contact_id"] in exact
    assert {entry["email"].casefold() for entry in exact.values()} == {email.casefold()}
    assert wildcard == {}
    assert removal["contact_id"] not in others


async def test_several_text_operators_on_one_field_are_anded(gr: GetResponse) -> None:
    both = await gr.result(
        "get_contacts_deleted", {"email": {"CONTAINS": "%example.com", "NOT_CONTAINS": "%.%.%@%"}}
    )

    assert both
    assert all(entry["email"].lower().endswith("example.com") for entry in both.values())
    assert all(entry["email"].split("@")[0].count(".") < 2 for entry in both.values())


@pytest.mark.parametrize(
    ("email_condition", "detail_fragment"),
    [
        ({"contains": "%a%"}, "unknown operator 'contains'"),
        ({"LIKE": "%a%"}, "unknown operator 'LIKE'"),
        ({"MATCHES": "^a"}, "unknown operator 'MATCHES'"),
        ({}, "email must be an object"),
        ("a@example.com", "email must be an object"),
        ({"EQUALS": 5}, "must be a string"),
    ],
)
async def test_a_malformed_text_condition_is_invalid_params(
    gr: GetResponse, email_condition: Any, detail_fragment: str
) -> None:
    error = await gr.error("get_contacts_deleted", {"email": email_condition})

    assert error["code"] == -32602
    assert detail_fragment in error["data"]


@pytest.mark.parametrize("gr_settings", [replace(SMALL_ACCOUNT, accept_matches_operator=True)])
async def test_matches_can_be_switched_on_as_a_regular_expression_search(gr: GetResponse) -> None:
    result = await gr.result("get_contacts_deleted", {"email": {"MATCHES": r"\.ORG$"}})
    broken = await gr.error("get_contacts_deleted", {"email": {"MATCHES": "(unclosed"}})

    assert result
    assert all(entry["email"].lower().endswith(".org") for entry in result.values())
    assert broken["code"] == -32602


# -- time operators -------------------------------------------------------------------------------------


async def test_from_to_and_at_are_inclusive_utc_calendar_days(gr: GetResponse, truth: dict[str, Any]) -> None:
    removal = next(iter(newest_per_campaign_and_address(truth["deleted"]).values()))
    day = removal["deleted_on"][:10]
    contact_id = removal["contact_id"]

    async def found(condition: dict[str, str]) -> bool:
        return contact_id in await gr.result("get_contacts_deleted", {"deleted_on": condition})

    assert await found({"FROM": day, "TO": day})
    assert await found({"AT": day})
    assert await found({"FROM": _shifted(day, -1), "TO": _shifted(day, 1)})
    assert not await found({"FROM": _shifted(day, 1)})
    assert not await found({"TO": _shifted(day, -1)})
    assert not await found({"AT": day, "FROM": _shifted(day, 1)})


async def test_created_on_and_deleted_on_combine(gr: GetResponse, truth: dict[str, Any]) -> None:
    listed = newest_per_campaign_and_address(truth["deleted"])
    condition = {"created_on": {"TO": "2018-12-31"}, "deleted_on": {"FROM": "2023-01-01", "TO": "2023-12-31"}}

    result = await gr.result("get_contacts_deleted", condition)

    expected = {
        cid
        for cid, r in listed.items()
        if r["created_on"][:10] <= "2018-12-31" and "2023-01-01" <= r["deleted_on"][:10] <= "2023-12-31"
    }
    assert expected
    assert set(result) == expected


@pytest.mark.parametrize(
    "deleted_on",
    [
        {"FROM": "2024-13-01"},
        {"FROM": "2024-02-30"},
        {"FROM": "2024-1-1"},
        {"FROM": "2024-01-01 00:00:00"},
        {"FROM": "yesterday"},
        {"FROM": 20240101},
        {"from": "2024-01-01"},
        {"EQUALS": "2024-01-01"},
        {"BETWEEN": "2024-01-01"},
        {},
        "2024-01-01",
    ],
)
async def test_a_malformed_date_or_time_operator_is_invalid_params(gr: GetResponse, deleted_on: Any) -> None:
    error = await gr.error("get_contacts_deleted", {"deleted_on": deleted_on})

    assert error["code"] == -32602
    assert error["message"] == "Invalid params"
    assert error["data"].startswith("deleted_on")


# -- the rest -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "conditions",
    [{"emails": {"CONTAINS": "%"}}, {"campaigns": "abcde"}, {"get_campaigns": {"title": {"EQUALS": "x"}}}],
)
async def test_unknown_or_misshapen_conditions_are_invalid_params(gr: GetResponse, conditions: Any) -> None:
    assert (await gr.error("get_contacts_deleted", conditions))["code"] == -32602


async def test_no_match_is_an_empty_object(gr: GetResponse) -> None:
    assert await gr.result("get_contacts_deleted", {"email": {"EQUALS": "nobody@nowhere.invalid"}}) == {}


async def test_result_keys_are_not_sorted_but_the_order_is_deterministic(gr: GetResponse) -> None:
    result = await gr.result("get_contacts_deleted")
    keys = list(result)

    assert keys != sorted(keys)
    assert keys != sorted(keys, key=lambda cid: result[cid]["deleted_on"])
    assert keys == list(await gr.result("get_contacts_deleted"))


@pytest.mark.parametrize("gr_settings", [GetResponseEmulatorSettings(seed=5, contacts=300)])
async def test_the_same_seed_gives_the_same_answer(
    gr: GetResponse, gr_settings: GetResponseEmulatorSettings
) -> None:
    first = await gr.result("get_contacts_deleted")
    other_app = create_app(gr_settings)
    assert [d.contact_id for d in other_app.state.store.latest_deletions()] == list(first)

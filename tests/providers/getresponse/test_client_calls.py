"""The typed methods against the emulator, in process and over real HTTP, and the errors they raise."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from gateway.providers.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    ProviderError,
    ValidationFailed,
)
from gateway.providers.getresponse import (
    AccountCallbacks,
    DayRange,
    DeletedContact,
    DeletedContactsQuery,
    TextCondition,
)

from .conftest import API_KEY, SETTINGS, Emulator, secret_free


async def _raises(error_type: type[ProviderError], awaitable: Any) -> ProviderError:
    with pytest.raises(error_type) as caught:
        await awaitable
    return secret_free(caught.value)  # type: ignore[return-value]


async def test_ping(emulator: Emulator) -> None:
    assert await emulator.client().ping() is True


async def test_get_contacts_deleted_returns_exactly_what_the_api_returns(emulator: Emulator) -> None:
    client = emulator.client()

    records = await client.get_contacts_deleted(DeletedContactsQuery())

    raw = await emulator.rpc("get_contacts_deleted", {})
    assert {record.contact_id: record.raw for record in records} == raw
    assert len(records) > 50
    assert all(record.deleted_on.tzinfo is not None for record in records)


async def test_get_contacts_deleted_pushes_every_condition_down(emulator: Emulator) -> None:
    everything = await emulator.rpc("get_contacts_deleted", {})
    campaign = next(iter(everything.values()))["campaign"]
    query = DeletedContactsQuery(
        campaign_ids=(campaign,),
        email=(TextCondition("CONTAINS", "%example%"),),
        deleted_on=DayRange(from_day=date(2015, 1, 1), to_day=date(2030, 12, 31)),
        reason="bounce",
    )

    records = await emulator.client().get_contacts_deleted(query)

    assert {r.contact_id: r.raw for r in records} == await emulator.rpc(
        "get_contacts_deleted", query.to_params()
    )
    assert all(r.campaign_id == campaign and r.reason == "bounce" for r in records)
    assert all(date(2015, 1, 1) <= r.deleted_on.date() <= date(2030, 12, 31) for r in records)


async def test_a_sub_reason_filter_returns_general_reasons(emulator: Emulator) -> None:
    records = await emulator.client().get_contacts_deleted(
        DeletedContactsQuery(reason="bounce::user_unknown")
    )

    assert records
    assert {record.reason for record in records} == {"bounce"}


async def test_get_contacts_with_conditions(emulator: Emulator) -> None:
    truth = await emulator.ground_truth()
    campaign = next(iter(truth["campaigns"]))

    contacts = await emulator.client().get_contacts({"campaigns": [campaign]})

    expected = {cid for cid, contact in truth["contacts"].items() if contact["campaign"] == campaign}
    assert {contact.contact_id for contact in contacts} == expected


async def test_campaigns_and_campaigns_by_ids_in_one_call(emulator: Emulator) -> None:
    client = emulator.client()
    truth = await emulator.ground_truth()

    campaigns = await client.get_campaigns()
    assert {c.campaign_id: c.name for c in campaigns} == {k: v["name"] for k, v in truth["campaigns"].items()}
    assert sum(c.is_default for c in campaigns) == 1

    wanted = [*list(truth["campaigns"])[:2], "nope0"]
    await emulator.reset_requests()
    by_id = await client.get_campaigns_by_ids([*wanted, wanted[0]])

    assert set(by_id) == set(wanted[:2])
    assert all(by_id[key].campaign_id == key for key in by_id)
    log = await emulator.requests()
    assert log["http_requests"] == 1
    assert log["operations"] == {"get_campaigns": 1}
    assert await client.get_campaigns_by_ids([]) == {}
    assert await emulator.http_requests() == 1


async def test_messages_by_ids_finds_every_type_in_one_request(emulator: Emulator) -> None:
    client = emulator.client()
    truth = await emulator.ground_truth()
    one_per_type = {message["type"]: mid for mid, message in truth["messages"].items()}
    assert set(one_per_type) == {"newsletter", "autoresponder", "ab_test", "draft"}

    await emulator.reset_requests()
    found = await client.get_messages_by_ids([*one_per_type.values(), "nope0"])

    assert {message.type: message.message_id for message in found.values()} == one_per_type
    assert await emulator.http_requests() == 1
    assert await client.get_messages_by_ids([]) == {}
    assert await emulator.http_requests() == 1


async def test_catalog_by_ids_asks_for_campaigns_and_messages_in_one_request(emulator: Emulator) -> None:
    client = emulator.client()
    truth = await emulator.ground_truth()
    campaign_ids = [*list(truth["campaigns"])[:2], "nope0"]
    message_ids = [*list(truth["messages"])[:3], "nope1"]

    await emulator.reset_requests()
    campaigns, messages = await client.get_catalog_by_ids(campaign_ids, [*message_ids, message_ids[0]])

    assert set(campaigns) == set(campaign_ids[:2])
    assert set(messages) == set(message_ids[:3])
    log = await emulator.requests()
    assert log["http_requests"] == 1
    assert log["operations"] == {"get_campaigns": 1, "get_message": 4}
    assert await client.get_catalog_by_ids([], []) == ({}, {})
    only_messages = await client.get_catalog_by_ids([], message_ids[:1])
    assert only_messages[0] == {} and set(only_messages[1]) == set(message_ids[:1])
    assert await emulator.http_requests() == 2


async def test_get_messages_by_conditions(emulator: Emulator) -> None:
    messages = await emulator.client().get_messages({"type": "draft"})

    assert messages
    assert {message.type for message in messages} == {"draft"}


async def test_add_contact_queues_and_then_conflicts(emulator: Emulator) -> None:
    client = emulator.client()
    campaign = next(iter((await emulator.ground_truth())["campaigns"]))

    await client.add_contact(campaign_id=campaign, email="new.person@example.com", name="New", cycle_day=0)

    queued = (await emulator.ground_truth())["queued"]
    assert [(q["email"], q["campaign"], q["cycle_day"]) for q in queued] == [
        ("new.person@example.com", campaign, 0)
    ]
    error = await _raises(Conflict, client.add_contact(campaign_id=campaign, email="new.person@example.com"))
    assert "already queued" in error.message


async def test_add_contact_errors_are_typed(emulator: Emulator) -> None:
    client = emulator.client()
    campaign = next(iter((await emulator.ground_truth())["campaigns"]))

    await _raises(NotFound, client.add_contact(campaign_id="nope0", email="a@example.com"))
    error = await _raises(ValidationFailed, client.add_contact(campaign_id=campaign, email="not-an-email"))
    assert error.message == "add_contact: Invalid email syntax"


async def test_delete_contacts_in_one_request_with_errors_in_place(emulator: Emulator) -> None:
    client = emulator.client()
    active = list((await emulator.ground_truth())["contacts"])[:2]
    await emulator.reset_requests()

    answers = await client.delete_contacts([active[0], "nope0", active[1]])

    assert answers[0] == {"deleted": 1} and answers[2] == {"deleted": 1}
    assert isinstance(answers[1], NotFound) and answers[1].message == "delete_contact: Missing contact"
    secret_free(answers[1])
    assert await emulator.http_requests() == 1
    truth = await emulator.ground_truth()
    assert not set(active) & set(truth["contacts"])
    assert {d["contact_id"] for d in truth["deleted"] if d["reason"] == "api"} >= set(active)


async def test_account_callbacks_round_trip(emulator: Emulator) -> None:
    client = emulator.client()

    assert await client.get_account_callbacks() is None
    await client.set_account_callbacks("http://hooks.example.com/gr", ["unsubscribe", "subscribe"])
    assert await client.get_account_callbacks() == AccountCallbacks(
        "http://hooks.example.com/gr", ("unsubscribe", "subscribe")
    )
    await client.delete_account_callbacks()
    assert await client.get_account_callbacks() is None
    await _raises(ValidationFailed, client.set_account_callbacks("not a uri", ["unsubscribe"]))


@pytest.mark.parametrize(
    "gr_settings", [SETTINGS, replace(SETTINGS, bad_key_http_status=403)], indirect=True, ids=["200", "403"]
)
async def test_a_bad_key_is_authentication_failed_whatever_the_status(emulator: Emulator) -> None:
    client = emulator.client(api_key="wrong-key-123")

    error = await _raises(AuthenticationFailed, client.ping())

    assert "API key verification failed" in error.message
    assert "wrong-key-123" not in str(error) and "wrong-key-123" not in repr(client)
    assert client.stats.retries == 0
    assert client.breaker.state == "closed"


async def test_invalid_params_is_validation_failed_with_the_detail(emulator: Emulator) -> None:
    client = emulator.client(check_contract=False)  # an undocumented reason, on purpose

    error = await _raises(ValidationFailed, client.call("get_contacts_deleted", {"reason": "bored"}))

    assert error.message.startswith("get_contacts_deleted: Invalid params (reason must be one of")
    assert isinstance(error, ValidationFailed) and error.details[0].message.startswith("reason must be")


async def test_an_unknown_method_is_validation_failed(emulator: Emulator) -> None:
    client = emulator.client(check_contract=False)  # an undocumented method, on purpose
    error = await _raises(ValidationFailed, client.call("get_everything"))

    assert "Method not found" in error.message


async def test_deleted_records_parse_from_the_raw_reply(emulator: Emulator) -> None:
    raw = await emulator.rpc("get_contacts_deleted", {"reason": "unsubscribe"})

    assert {r.contact_id for r in DeletedContact.parse_map(raw)} == set(raw)
    assert API_KEY not in repr(DeletedContact.parse_map(raw)[0])

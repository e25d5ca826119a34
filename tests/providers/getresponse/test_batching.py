"""Batches against the emulator: one POST for many calls, errors in place, notifications, the 1 MiB split."""

from __future__ import annotations

from typing import Any

from gateway.providers.errors import NotFound, ProviderError, ValidationFailed
from gateway.providers.getresponse import MAX_REQUEST_BYTES, DeletedContactsQuery, RpcCall, TextCondition

from .conftest import Emulator, secret_free


async def _deleted_emails(emulator: Emulator) -> list[str]:
    everything = await emulator.rpc("get_contacts_deleted", {})
    return sorted({entry["email"] for entry in everything.values()})


async def test_100_get_contacts_deleted_calls_are_one_http_request(emulator: Emulator) -> None:
    everything = await emulator.rpc("get_contacts_deleted", {})
    emails = sorted({entry["email"] for entry in everything.values()})
    queries = [
        DeletedContactsQuery(email=(TextCondition("EQUALS", emails[i % len(emails)]),)) for i in range(100)
    ]
    client = emulator.client()
    await emulator.reset_requests()

    answers = await client.batch([RpcCall("get_contacts_deleted", query.to_params()) for query in queries])

    log = await emulator.requests()
    assert log["http_requests"] == 1
    assert log["operations"] == {"get_contacts_deleted": 100}
    for query, answer in zip(queries, answers, strict=True):
        (condition,) = query.email
        expected = {
            cid for cid, e in everything.items() if e["email"].casefold() == condition.value.casefold()
        }
        assert set(answer) == expected and expected
    assert client.stats.attempts == 1 and client.stats.retries == 0


async def test_a_batch_mixes_results_and_typed_errors_in_call_order(emulator: Emulator) -> None:
    client = emulator.client(check_contract=False)  # the last call's reason is undocumented, on purpose
    truth = await emulator.ground_truth()
    campaign, contact = next(iter(truth["campaigns"])), next(iter(truth["contacts"]))
    await emulator.reset_requests()

    answers = await client.batch(
        [
            RpcCall("ping", {}),
            RpcCall("get_contact", {"contact": "nope0"}),
            RpcCall("get_campaign", {"campaign": campaign}),
            RpcCall("add_contact", {"campaign": campaign, "email": "broken"}, idempotent=False),
            RpcCall("delete_contact", {"contact": contact}),
            RpcCall("get_contacts_deleted", {"reason": "bored"}),
        ]
    )

    assert answers[0] == {"ping": "pong"}
    assert isinstance(answers[1], NotFound)
    assert set(answers[2]) == {campaign}
    assert (
        isinstance(answers[3], ValidationFailed) and answers[3].message == "add_contact: Invalid email syntax"
    )
    assert answers[4] == {"deleted": 1}
    assert isinstance(answers[5], ValidationFailed)
    for answer in answers:
        if isinstance(answer, ProviderError):
            secret_free(answer)
    assert await emulator.http_requests() == 1
    assert contact not in (await emulator.ground_truth())["contacts"]


async def test_without_batching_the_same_calls_go_out_as_concurrent_single_requests(
    emulator: Emulator,
) -> None:
    emails = await _deleted_emails(emulator)
    calls = [RpcCall("get_contacts_deleted", {"email": {"EQUALS": email}}) for email in emails[:10]]
    calls.append(RpcCall("get_contact", {"contact": "nope0"}))
    batched = await emulator.client().batch(calls)
    await emulator.reset_requests()

    single = await emulator.client(batching=False).batch(calls)

    assert await emulator.http_requests() == 11
    assert single[:10] == batched[:10]
    assert isinstance(single[10], NotFound) and isinstance(batched[10], NotFound)


async def test_an_empty_batch_sends_nothing(emulator: Emulator) -> None:
    assert await emulator.client().batch([]) == []
    assert await emulator.http_requests() == 0


# -- notifications ------------------------------------------------------------------------------------


async def test_a_notification_runs_and_is_answered_with_204(emulator: Emulator) -> None:
    client = emulator.client()
    contact = next(iter((await emulator.ground_truth())["contacts"]))

    await client.notify("delete_contact", {"contact": contact})

    assert contact not in (await emulator.ground_truth())["contacts"]
    assert await emulator.http_requests() == 1


async def test_notifications_in_a_batch_take_none_slots_and_failures_stay_silent(emulator: Emulator) -> None:
    client = emulator.client()
    first, second = list((await emulator.ground_truth())["contacts"])[:2]

    answers = await client.batch(
        [
            RpcCall("delete_contact", {"contact": first}, notification=True),
            RpcCall("ping"),
            RpcCall("delete_contact", {"contact": "nope0"}, notification=True),
        ]
    )
    only_notifications = await client.batch(
        [
            RpcCall("delete_contact", {"contact": second}, notification=True),
            RpcCall("ping", notification=True),
        ]
    )

    assert answers == [None, {"ping": "pong"}, None]
    assert only_notifications == [None, None]
    remaining = (await emulator.ground_truth())["contacts"]
    assert first not in remaining and second not in remaining
    assert await emulator.http_requests() == 2


# -- the 1 MiB request limit --------------------------------------------------------------------------


def _padded_calls(campaigns: list[str], pad_ids: int) -> list[RpcCall]:
    """One call per campaign of ~``pad_ids`` * 9 bytes; unknown ids match nothing, so results stay exact."""
    return [
        RpcCall("get_contacts_deleted", {"campaigns": [campaign, *(f"p{n:06d}" for n in range(pad_ids))]})
        for campaign in campaigns
    ]


async def test_a_batch_over_1_mib_is_split_into_as_few_requests_as_fit(emulator: Emulator) -> None:
    campaigns = list((await emulator.ground_truth())["campaigns"])
    calls = _padded_calls(campaigns, 30_000)  # 6 calls of ~300 kB: 3 fit in 1 MiB, so 2 requests
    client = emulator.client()
    await emulator.reset_requests()

    answers = await client.batch(calls)

    assert await emulator.http_requests() == 2
    everything = await emulator.rpc("get_contacts_deleted", {})
    for campaign, answer in zip(campaigns, answers, strict=True):
        assert answer == {cid: e for cid, e in everything.items() if e["campaign"] == campaign}


async def test_a_single_call_over_1_mib_fails_in_place_without_being_sent(emulator: Emulator) -> None:
    client = emulator.client()
    huge = RpcCall("get_contacts_deleted", {"email": {"EQUALS": "x" * MAX_REQUEST_BYTES}})

    answers: list[Any] = await client.batch([RpcCall("ping"), huge])

    assert answers[0] == {"ping": "pong"}
    assert isinstance(answers[1], ValidationFailed) and "request limit" in answers[1].message
    assert await emulator.http_requests() == 1


async def test_a_request_the_emulator_finds_too_large_is_validation_failed(emulator: Emulator) -> None:
    campaigns = list((await emulator.ground_truth())["campaigns"])
    # Misconfigured: no split, so the request is over the documented size, on purpose.
    client = emulator.client(max_request_bytes=4 * MAX_REQUEST_BYTES, check_contract=False)

    try:
        await client.batch(_padded_calls(campaigns, 30_000))
    except ValidationFailed as error:
        secret_free(error)
        assert error.status_code == 413
    else:
        raise AssertionError("the emulator accepted a request over 1 MiB")
    assert client.stats.retries == 0

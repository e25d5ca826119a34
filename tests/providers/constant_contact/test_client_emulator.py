"""The client against the Constant Contact emulator, in process and over real sockets.

Paging to the last page, reads, deletes and restores (single and bulk), lists, every error shape the
emulator answers, the daily quota, and the OAuth refresh, each checked against the emulator's ground
truth and its request log.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from typing import Any

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings

from gateway.providers.constant_contact import ConstantContactClient, error_for_response
from gateway.providers.errors import AuthenticationFailed, Conflict, NotFound, RateLimited, ValidationFailed

from .conftest import ACCESS_TOKEN, FAST_EMULATOR, ClientFactory, Emulator, oauth

UNKNOWN_ID = "0b9d3f6e-1c2a-4e5f-8a7b-9c0d1e2f3a4b"
ROTATING = replace(FAST_EMULATOR, rotate_refresh_tokens=True)
SMALL_QUOTA = replace(FAST_EMULATOR, daily_quota=3)


def client_for(make_client: ClientFactory, cc: Emulator, **overrides: Any) -> ConstantContactClient:
    return make_client(cc.transport(), base_url=cc.base_url, **overrides)


async def _contacts(cc: Emulator, status: str) -> list[dict[str, Any]]:
    truth = await cc.ground_truth()
    return [c for c in truth["contacts"].values() if c["status"] == status]


async def _active_with_lists(cc: Emulator, count: int) -> list[dict[str, Any]]:
    chosen = [c for c in await _contacts(cc, "active") if c["list_memberships"] and c.get("job_title")]
    assert len(chosen) >= count
    return chosen[:count]


# -- reading -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [50, 500])
async def test_paging_reaches_the_last_page_and_sees_every_deleted_contact_once(
    make_client: ClientFactory, cc: Emulator, limit: int
) -> None:
    deleted = {c["contact_id"] for c in await _contacts(cc, "deleted")}
    client = client_for(make_client, cc)
    pages = [p async for p in client.iter_contact_pages(status=("deleted",), limit=limit, include_count=True)]
    ids = [c.contact_id for p in pages for c in p.contacts]
    assert len(ids) == len(set(ids)) and set(ids) == deleted
    assert len(pages) == math.ceil(len(deleted) / limit)
    assert all(len(p.contacts) == limit for p in pages[:-1])
    assert pages[-1].next_href is None and all(p.next_href for p in pages[:-1])
    assert pages[0].contacts_count == len(deleted)
    assert all(c.deleted_at is not None and c.list_memberships == () for p in pages for c in p.contacts)
    assert await cc.operations() == {"getContacts": len(pages)}
    assert (client.stats.attempts, client.stats.retries) == (len(pages), 0)


async def test_get_contact_returns_deleted_contacts_and_404s_unknown_ones(
    make_client: ClientFactory, cc: Emulator
) -> None:
    gone = (await _contacts(cc, "deleted"))[0]
    client = client_for(make_client, cc)
    contact = await client.get_contact(gone["contact_id"])
    assert contact.deleted_at is not None and contact.deleted_at.isoformat() == gone["deleted_at"]
    assert contact.email_address is not None
    assert contact.email_address.address == gone["email_address"]["address"]
    assert contact.raw["contact_id"] == gone["contact_id"]

    with pytest.raises(NotFound) as unknown:
        await client.get_contact(UNKNOWN_ID)
    with pytest.raises(NotFound) as malformed:
        await client.get_contact("not-a-uuid")
    assert malformed.value.message == "contact_id is in an invalid format."
    assert unknown.value.status_code == 404
    assert (await cc.operations())["getContact"] == 3 and client.stats.retries == 0


async def test_find_by_email_needs_status_all_to_see_a_deleted_contact(
    make_client: ClientFactory, cc: Emulator
) -> None:
    gone = (await _contacts(cc, "deleted"))[0]
    address = gone["email_address"]["address"]
    client = client_for(make_client, cc)
    (found,) = await client.find_contacts_by_email(address)
    assert found.contact_id == gone["contact_id"] and found.deleted_at is not None
    assert await client.find_contacts_by_email(address, status=()) == []


async def test_contact_lists(make_client: ClientFactory, cc: Emulator) -> None:
    truth = (await cc.ground_truth())["lists"]
    client = client_for(make_client, cc)
    lists = await client.list_contact_lists()
    assert {item.list_id: (item.name, item.membership_count) for item in lists} == {
        list_id: (item["name"], item["membership_count"]) for list_id, item in truth.items()
    }
    assert all(item.created_at is not None for item in lists)


# -- writing -------------------------------------------------------------------------------------------


async def test_delete_then_restore_one_contact_keeps_every_core_field(
    make_client: ClientFactory, cc: Emulator
) -> None:
    (target,) = await _active_with_lists(cc, 1)
    contact_id = target["contact_id"]
    list_id = target["list_memberships"][0]
    client = client_for(make_client, cc)
    before = await client.get_contact(contact_id)

    await client.delete_contact(contact_id)
    await client.delete_contact(contact_id)  # already deleted: 204 again, not an error
    deleted = await client.get_contact(contact_id)
    assert deleted.deleted_at is not None and deleted.list_memberships == ()

    restored = await client.restore_contact(contact_id, [list_id])
    assert restored.deleted_at is None and "deleted_at" not in restored.raw
    assert restored.list_memberships == (list_id,)
    assert restored.update_source == "Account"
    for name in ("first_name", "last_name", "job_title", "company_name", "birthday_month", "anniversary"):
        assert getattr(restored, name) == getattr(before, name), name
    assert restored.email_address is not None and before.email_address is not None
    assert restored.email_address.address == before.email_address.address
    assert restored.email_address.permission_to_send == before.email_address.permission_to_send

    truth = (await cc.ground_truth())["contacts"][contact_id]
    assert truth["status"] == target["status"] and truth["list_memberships"] == [list_id]
    assert await cc.operations() == {"getContact": 3, "deleteContact": 2, "putContact": 1}


async def test_restoring_an_unsubscribed_contact_keeps_it_unsubscribed(
    make_client: ClientFactory, cc: Emulator
) -> None:
    gone = next(
        c
        for c in await _contacts(cc, "deleted")
        if c["email_address"]["permission_to_send"] == "unsubscribed"
    )
    list_id = next(iter((await cc.ground_truth())["lists"]))
    client = client_for(make_client, cc)
    restored = await client.restore_contact(gone["contact_id"], [list_id])
    assert restored.deleted_at is None
    assert restored.email_address is not None and restored.email_address.permission_to_send == "unsubscribed"


async def test_bulk_delete_and_bulk_restore_through_activities(
    make_client: ClientFactory, cc: Emulator
) -> None:
    targets = await _active_with_lists(cc, 3)
    ids = [c["contact_id"] for c in targets]
    list_id = targets[0]["list_memberships"][0]
    client = client_for(make_client, cc)

    (started,) = await client.start_bulk_delete([*ids, UNKNOWN_ID])
    assert started.state == "initialized" and not started.done
    await cc.advance_clock(10)  # the emulator finishes activities on its own clock
    (finished,) = await client.wait_for_activities([started.activity_id], timeout=5)
    assert finished.state == "completed" and finished.done and finished.percent_done == 100
    assert (finished.items_total_count, finished.items_completed_count) == (4, 4)
    assert [e for e in finished.activity_errors if UNKNOWN_ID in e]  # the adapter looks for the id
    assert not [e for e in finished.activity_errors if any(i in e for i in ids)]
    truth = (await cc.ground_truth())["contacts"]
    assert all(truth[i]["status"] == "deleted" for i in ids)

    (restoring,) = await client.start_bulk_restore(ids, [list_id])
    await cc.advance_clock(10)
    (restored,) = await client.wait_for_activities([restoring.activity_id], timeout=5)
    assert restored.state == "completed" and restored.activity_errors == ()
    truth = (await cc.ground_truth())["contacts"]
    assert all(truth[i]["status"] != "deleted" and list_id in truth[i]["list_memberships"] for i in ids)
    operations = await cc.operations()
    assert operations["postContactDelete"] == 1 and operations["postListAddContact"] == 1
    assert operations["getActivity"] == 2


async def test_wait_for_activities_follows_progress_on_the_emulator_clock(
    make_client: ClientFactory, cc: Emulator
) -> None:
    targets = await _active_with_lists(cc, 4)
    client = client_for(make_client, cc)
    (started,) = await client.start_bulk_delete([c["contact_id"] for c in targets])
    (pending,) = await client.wait_for_activities([started.activity_id], timeout=0.05, first_interval=0.01)
    assert pending.state == "initialized" and not pending.done
    await cc.advance_clock(1.3)  # half way through processing (0.5 s initialized + 1.5 s processing)
    (halfway,) = await client.wait_for_activities([started.activity_id], timeout=0.05, first_interval=0.01)
    assert halfway.state == "processing" and halfway.items_completed_count == 2
    assert halfway.percent_done == 50 and not halfway.done
    await cc.advance_clock(1)
    (done,) = await client.wait_for_activities([started.activity_id], timeout=5)
    assert done.state == "completed" and done.completed_at is not None and done.percent_done == 100


# -- error shapes from the emulator --------------------------------------------------------------------


async def test_a_wrong_token_is_a_401_single_object(make_client: ClientFactory, cc: Emulator) -> None:
    client = client_for(make_client, cc, access_token="not-a-token")
    with pytest.raises(AuthenticationFailed) as caught:
        await client.get_contact(UNKNOWN_ID)
    assert (caught.value.message, caught.value.status_code) == ("Unauthorized", 401)
    assert await cc.operations() == {"getContact": 1, "unauthorized": 1}
    assert client.breaker.state == "closed" and client.stats.retries == 0


async def test_a_bad_parameter_is_a_400_array_with_details(make_client: ClientFactory, cc: Emulator) -> None:
    client = client_for(make_client, cc, check_contract=False)  # the bad date-time is the point
    with pytest.raises(ValidationFailed) as caught:
        [p async for p in client.iter_contact_pages(created_after="last tuesday")]
    error = caught.value
    assert error.status_code == 400 and error.details
    assert {d.key for d in error.details} == {"contacts.api.validation.error"}
    assert "created_after" in error.message
    assert await cc.operations() == {"getContacts": 1}  # a 400 is an answer: never retried


async def test_the_emulators_409_names_the_contact_that_holds_the_address(cc: Emulator) -> None:
    holder = (await _contacts(cc, "deleted"))[0]
    response = await cc.control.post(
        "/v3/contacts",
        json={"create_source": "Account", "email_address": {"address": holder["email_address"]["address"]}},
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    )
    error = error_for_response(response)
    assert isinstance(error, Conflict)
    assert error.existing_id == holder["contact_id"]


@pytest.mark.parametrize("cc_settings", [SMALL_QUOTA], indirect=True)
async def test_quota_exceeded_fails_fast_with_the_reset_time(
    make_client: ClientFactory, cc: Emulator
) -> None:
    gone = (await _contacts(cc, "deleted"))[0]
    client = client_for(make_client, cc)
    for _ in range(3):
        await client.get_contact(gone["contact_id"])
    with pytest.raises(RateLimited) as caught:
        await client.get_contact(gone["contact_id"])
    assert caught.value.kind == "quota_exceeded" and caught.value.reset_at is not None
    assert caught.value.message == "Limit Exceeded"
    assert client.allowance.remaining == 0 and client.stats.retries == 0
    with pytest.raises(RateLimited):
        await client.get_contact(gone["contact_id"])
    assert await cc.operations() == {"getContact": 4, "quota_exceeded": 1}  # the fifth never left
    assert client.breaker.state == "closed"


# -- OAuth refresh -------------------------------------------------------------------------------------


async def _expire_tokens(cc: Emulator) -> None:
    response = await cc.control.post("/_emulator/tokens/expire")
    assert response.status_code == 200 and response.json()["expired"] >= 1


async def test_an_expired_token_is_refreshed_once_for_many_concurrent_calls(
    make_client: ClientFactory, cc: Emulator
) -> None:
    gone = (await _contacts(cc, "deleted"))[0]
    client = client_for(make_client, cc, refresh=oauth(cc.token_url))
    await client.get_contact(gone["contact_id"])
    await _expire_tokens(cc)
    results = await asyncio.gather(*(client.get_contact(gone["contact_id"]) for _ in range(20)))
    assert {r.contact_id for r in results} == {gone["contact_id"]}
    operations = await cc.operations()
    assert operations["token"] == 1 and client.token_refreshes == 1
    assert operations["getContact"] == 1 + 20 + operations["unauthorized"]
    assert 1 <= operations["unauthorized"] <= 20
    assert client.stats.retries == 0


@pytest.mark.parametrize("cc_settings", [ROTATING], indirect=True)
async def test_rotating_refresh_tokens_keep_working(make_client: ClientFactory, cc: Emulator) -> None:
    gone = (await _contacts(cc, "deleted"))[0]
    client = client_for(make_client, cc, refresh=oauth(cc.token_url))
    for _ in range(3):
        await _expire_tokens(cc)
        await client.get_contact(gone["contact_id"])
    assert client.token_refreshes == 3
    assert (await cc.operations())["token"] == 3


async def test_a_revoked_refresh_token_ends_in_authentication_failed(
    make_client: ClientFactory, cc: Emulator
) -> None:
    client = client_for(make_client, cc, refresh=oauth(cc.token_url))
    assert (await cc.control.post("/_emulator/tokens/revoke-refresh")).status_code == 200
    await _expire_tokens(cc)
    results = await asyncio.gather(
        *(client.get_contact(UNKNOWN_ID) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, AuthenticationFailed) for r in results)
    first = results[0]
    assert isinstance(first, AuthenticationFailed) and "invalid_grant" in first.message
    assert (await cc.operations())["token"] == 1
    assert client.breaker.state == "closed"


async def test_wrong_client_credentials_are_reported_without_the_secret(
    make_client: ClientFactory, cc: Emulator
) -> None:
    refresh = oauth(cc.token_url)
    refresh = replace(refresh, client_secret="wrong-secret-value")
    client = client_for(make_client, cc, refresh=refresh)
    await _expire_tokens(cc)
    with pytest.raises(AuthenticationFailed) as caught:
        await client.get_contact(UNKNOWN_ID)
    assert "invalid_client" in caught.value.message
    assert "wrong-secret-value" not in f"{caught.value} {caught.value!r}"


def test_emulator_settings_used_here_are_hashable() -> None:
    # The real-HTTP fixture keeps one server per settings value.
    assert len({FAST_EMULATOR, ROTATING, SMALL_QUOTA, ConstantContactEmulatorSettings()}) == 4

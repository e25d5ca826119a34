"""Single contacts: GET, DELETE, PUT (update and restore), POST (409 naming the holder) and
``sign_up_form``, with every error path: 404 for unknown or malformed ids, 409, 415 and 400 shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from .conftest import SMALL_ACCOUNT, ConstantContact, contacts_with

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
VALIDATION = "contacts.api.validation.error"


def errors(response: Any) -> list[str]:
    body = response.json()
    assert isinstance(body, list), body
    assert {item["error_key"] for item in body} == {VALIDATION}
    return [item["error_message"] for item in body]


async def fixtures(cc: ConstantContact) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A deleted contact, a live one and a list id."""
    truth = await cc.ground_truth()
    return contacts_with(truth, "deleted")[0], contacts_with(truth, "active")[0], next(iter(truth["lists"]))


async def current(cc: ConstantContact, contact_id: str) -> dict[str, Any]:
    truth = await cc.ground_truth()
    contact: dict[str, Any] = truth["contacts"][contact_id]
    return contact


# -- GET -----------------------------------------------------------------------------------------------


async def test_a_deleted_contact_is_returned_with_a_date_only_deleted_at_and_no_lists(
    cc: ConstantContact,
) -> None:
    deleted, _, _ = await fixtures(cc)

    plain = await cc.ok(f"/v3/contacts/{deleted['contact_id']}")
    with_lists = await cc.ok(f"/v3/contacts/{deleted['contact_id'].upper()}", {"include": "list_memberships"})

    assert len(plain["deleted_at"]) == 10 and datetime.fromisoformat(plain["deleted_at"])
    assert "list_memberships" not in plain and with_lists["list_memberships"] == []
    assert plain["deleted_at"] <= plain["updated_at"][:10]


@pytest.mark.parametrize(
    ("contact_id", "message"),
    [
        ("not-a-uuid", "contact_id is in an invalid format."),
        ("12345", "contact_id is in an invalid format."),
        (UNKNOWN_ID, f"Contact {UNKNOWN_ID} was not found."),
    ],
)
async def test_unknown_and_malformed_ids_are_404s_for_every_method(
    cc: ConstantContact, contact_id: str, message: str
) -> None:
    expected = [{"error_key": "contacts.api.not_found", "error_message": message}]
    for response in (
        await cc.get(f"/v3/contacts/{contact_id}"),
        await cc.delete(f"/v3/contacts/{contact_id}"),
        await cc.put(
            f"/v3/contacts/{contact_id}", {"update_source": "Account", "email_address": {"address": "a@b.co"}}
        ),
    ):
        assert response.status_code == 404
        assert response.json() == expected


# -- DELETE --------------------------------------------------------------------------------------------


async def test_delete_is_a_soft_delete_that_bumps_updated_at(cc: ConstantContact) -> None:
    _, live, _ = await fixtures(cc)
    moved = await cc.http.post("/_emulator/clock", json={"advance_seconds": 3600})
    before = datetime.fromisoformat(moved.json()["now"])
    before = before.replace(microsecond=before.microsecond // 1000 * 1000)  # shown in milliseconds

    response = await cc.delete(f"/v3/contacts/{live['contact_id']}")

    assert response.status_code == 204 and response.content == b""
    after = await cc.ok(f"/v3/contacts/{live['contact_id']}", {"include": "list_memberships"})
    assert after["list_memberships"] == [] and live["list_memberships"]
    assert after["deleted_at"] == after["updated_at"][:10]
    assert datetime.fromisoformat(after["updated_at"]) >= before
    assert after["email_address"]["permission_to_send"] == live["email_address"]["permission_to_send"]
    synced = await cc.listed({"status": "deleted", "updated_after": before.isoformat(), "limit": 500})
    assert [c["contact_id"] for c in synced] == [live["contact_id"]]


async def test_deleting_a_deleted_contact_again_answers_204_and_changes_nothing(cc: ConstantContact) -> None:
    deleted, _, _ = await fixtures(cc)

    response = await cc.delete(f"/v3/contacts/{deleted['contact_id']}")

    assert response.status_code == 204
    assert await current(cc, deleted["contact_id"]) == deleted


@pytest.mark.parametrize("cc_settings", [replace(SMALL_ACCOUNT, delete_deleted_contact_status=404)])
async def test_deleting_a_deleted_contact_can_be_told_to_answer_404(cc: ConstantContact) -> None:
    deleted, _, _ = await fixtures(cc)

    response = await cc.delete(f"/v3/contacts/{deleted['contact_id']}")

    assert response.status_code == 404
    assert response.json()[0]["error_key"] == "contacts.api.not_found"


# -- PUT -----------------------------------------------------------------------------------------------


async def test_a_put_restores_a_deleted_contact_with_account_source_and_a_list(cc: ConstantContact) -> None:
    deleted, _, list_id = await fixtures(cc)
    body = {
        "update_source": "Account",
        "email_address": {"address": deleted["email_address"]["address"]},
        "first_name": "Restored",
        "list_memberships": [list_id],
    }

    response = await cc.put(f"/v3/contacts/{deleted['contact_id']}", body)

    assert response.status_code == 200, response.text
    restored = response.json()
    assert "deleted_at" not in restored and restored["list_memberships"] == [list_id]
    assert restored["update_source"] == "Account" and restored["first_name"] == "Restored"
    assert "last_name" not in restored and "job_title" not in restored  # left out: overwritten with null
    assert restored["email_address"]["permission_to_send"] == deleted["email_address"]["permission_to_send"]
    assert restored["updated_at"] > deleted["updated_at"]
    assert (await current(cc, deleted["contact_id"]))["status"] != "deleted"
    assert deleted["contact_id"] in {c["contact_id"] for c in await cc.listed({"limit": 500})}


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"update_source": "Contact"}, ["update_source must be Account to restore a deleted contact."]),
        (
            {"list_memberships": []},
            ["list_memberships must name at least one list to restore a deleted contact."],
        ),
        (
            {"list_memberships": None},
            ["list_memberships must name at least one list to restore a deleted contact."],
        ),
        ({"update_source": None}, ["update_source is required."]),
        (
            {"list_memberships": [UNKNOWN_ID]},
            [f"list_memberships names a list that does not exist: {UNKNOWN_ID}."],
        ),
    ],
)
async def test_restore_rules_are_enforced_with_400s_that_change_nothing(
    cc: ConstantContact, changes: dict[str, Any], messages: list[str]
) -> None:
    deleted, _, list_id = await fixtures(cc)
    body = {
        "update_source": "Account",
        "email_address": {"address": deleted["email_address"]["address"]},
        "list_memberships": [list_id],
        **changes,
    }

    response = await cc.put(
        f"/v3/contacts/{deleted['contact_id']}", {k: v for k, v in body.items() if v is not None}
    )

    assert response.status_code == 400
    assert errors(response) == messages
    assert await current(cc, deleted["contact_id"]) == deleted


async def test_a_put_replaces_core_fields_but_keeps_subresources_left_out(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    live = next(c for c in contacts_with(truth, "active") if c["phone_numbers"] and c["list_memberships"])
    # The safe client pattern: GET everything, change one field, PUT it all back (read-only fields too).
    full = await cc.ok(f"/v3/contacts/{live['contact_id']}", {"include": "list_memberships,phone_numbers"})
    full.update(update_source="Contact", job_title="Pianist")

    response = await cc.put(f"/v3/contacts/{live['contact_id']}", full)

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["job_title"] == "Pianist" and updated["first_name"] == live["first_name"]
    assert updated["list_memberships"] == live["list_memberships"]
    assert [p["phone_number"] for p in updated["phone_numbers"]] == [
        p["phone_number"] for p in live["phone_numbers"]
    ]
    assert updated["custom_fields"] == live["custom_fields"]  # not sent: kept
    assert updated["update_source"] == "Contact" and updated["created_at"] == live["created_at"]


async def test_a_put_without_email_address_is_rejected_by_default(cc: ConstantContact) -> None:
    _, live, _ = await fixtures(cc)

    response = await cc.put(
        f"/v3/contacts/{live['contact_id']}", {"update_source": "Account", "first_name": "X"}
    )

    assert response.status_code == 400 and errors(response) == ["email_address is required."]


@pytest.mark.parametrize(
    ("cc_settings", "keeps"),
    [
        (replace(SMALL_ACCOUNT, put_without_email="clear"), False),
        (replace(SMALL_ACCOUNT, put_without_email="keep"), True),
    ],
)
async def test_a_put_without_email_address_can_clear_or_keep_it(cc: ConstantContact, keeps: bool) -> None:
    _, live, _ = await fixtures(cc)

    response = await cc.put(
        f"/v3/contacts/{live['contact_id']}", {"update_source": "Account", "first_name": "X"}
    )

    assert response.status_code == 200
    assert ("email_address" in response.json()) is keeps
    lookup = await cc.ok("/v3/contacts", {"email": live["email_address"]["address"], "status": "all"})
    assert len(lookup["contacts"]) == int(keeps)


async def test_a_put_taking_another_contacts_address_is_a_409_naming_it(cc: ConstantContact) -> None:
    deleted, live, _ = await fixtures(cc)
    body = {
        "update_source": "Account",
        "email_address": {"address": deleted["email_address"]["address"].upper()},
    }

    response = await cc.put(f"/v3/contacts/{live['contact_id']}", body)

    assert response.status_code == 409
    assert response.json() == [
        {
            "error_key": "contacts.api.conflict",
            "error_message": f"Validation failed: Email already exists for contact {deleted['contact_id']}",
        }
    ]
    assert await current(cc, live["contact_id"]) == live


async def test_only_the_contact_can_opt_back_in_after_unsubscribing(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    by_contact = next(
        c for c in contacts_with(truth, "unsubscribed") if c["email_address"]["opt_out_source"] == "Contact"
    )
    by_account = next(
        c for c in contacts_with(truth, "unsubscribed") if c["email_address"]["opt_out_source"] == "Account"
    )

    def body(contact: dict[str, Any]) -> dict[str, Any]:
        address = {"address": contact["email_address"]["address"], "permission_to_send": "explicit"}
        return {"update_source": "Account", "email_address": address}

    refused = await cc.put(f"/v3/contacts/{by_contact['contact_id']}", body(by_contact))
    allowed = await cc.put(f"/v3/contacts/{by_account['contact_id']}", body(by_account))

    assert refused.status_code == 400
    assert errors(refused) == ["The contact unsubscribed; only the contact can opt back in."]
    assert allowed.status_code == 200
    assert allowed.json()["email_address"]["permission_to_send"] == "explicit"
    assert "opt_out_source" not in allowed.json()["email_address"]


async def test_unsubscribing_through_a_put_records_the_opt_out(cc: ConstantContact) -> None:
    _, live, _ = await fixtures(cc)
    address = {
        "address": live["email_address"]["address"],
        "permission_to_send": "unsubscribed",
        "opt_out_reason": "Too many emails.",
    }

    response = await cc.put(
        f"/v3/contacts/{live['contact_id']}", {"update_source": "Contact", "email_address": address}
    )

    email = response.json()["email_address"]
    assert email["permission_to_send"] == "unsubscribed" and email["opt_out_source"] == "Contact"
    assert email["opt_out_reason"] == "Too many emails." and "opt_out_date" in email
    assert (await current(cc, live["contact_id"]))["status"] == "unsubscribed"


# -- POST ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["deleted", "active"])
async def test_creating_an_existing_address_is_a_409_naming_the_contact_deleted_or_not(
    cc: ConstantContact, which: str
) -> None:
    truth = await cc.ground_truth()
    holder = contacts_with(truth, which)[3]
    address = holder["email_address"]["address"].swapcase()

    response = await cc.post(
        "/v3/contacts", {"create_source": "Account", "email_address": {"address": address}}
    )

    assert response.status_code == 409
    assert response.json() == [
        {
            "error_key": "contacts.api.conflict",
            "error_message": f"Validation failed: Email already exists for contact {holder['contact_id']}",
        }
    ]
    assert len((await cc.ground_truth())["contacts"]) == len(truth["contacts"])


async def test_creating_a_contact_answers_201_and_lists_it_last(cc: ConstantContact) -> None:
    _, _, list_id = await fixtures(cc)
    body = {
        "create_source": "Contact",
        "email_address": {"address": "Łucja.Nowak+news@Example.org", "permission_to_send": "explicit"},
        "first_name": "Łucja",
        "birthday_month": 2,
        "birthday_day": 29,
        "anniversary": "11/15/2006",
        "list_memberships": [list_id],
    }

    response = await cc.post("/v3/contacts", body)

    assert response.status_code == 201
    created = response.json()
    assert created["create_source"] == created["update_source"] == "Contact"
    assert created["anniversary"] == "2006-11-15" and created["list_memberships"] == [list_id]
    assert created["email_address"]["opt_in_source"] == "Contact"
    everything = await cc.listed({"status": "all", "limit": 500})
    assert everything[-1]["contact_id"] == created["contact_id"]


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        (
            {},
            [
                "create_source is required.",
                "At least one of first_name, last_name, email_address or sms_channel is required.",
            ],
        ),
        ({"create_source": "Robot", "first_name": "A"}, ["create_source must be one of: Contact, Account."]),
        (
            {"create_source": "Account", "email_address": {"address": "not an email"}},
            [
                "email_address.address is not a valid email address.",
                "At least one of first_name, last_name, email_address or sms_channel is required.",
            ],
        ),
        (
            {"create_source": "Account", "first_name": "x" * 51},
            [
                "first_name must be at most 50 characters long.",
                "At least one of first_name, last_name, email_address or sms_channel is required.",
            ],
        ),
        (
            {"create_source": "Account", "first_name": "A", "birthday_month": 13},
            [
                "birthday_month must be an integer from 1 through 12.",
                "birthday_month and birthday_day must be sent together.",
            ],
        ),
        (
            {"create_source": "Account", "first_name": "A", "anniversary": "2006-02-30"},
            ["anniversary is not a valid date."],
        ),
        (
            {"create_source": "Account", "first_name": "A", "phone_numbers": [{}, {}, {}, {}]},
            ["phone_numbers accepts at most 3 items."],
        ),
        (
            {"create_source": "Account", "first_name": "A", "street_addresses": [{"city": "Chicago"}]},
            ["street_addresses[0].kind is required."],
        ),
    ],
)
async def test_invalid_creations_are_400s_listing_every_problem(
    cc: ConstantContact, body: dict[str, Any], messages: list[str]
) -> None:
    response = await cc.post("/v3/contacts", body)

    assert response.status_code == 400
    assert errors(response) == messages


@pytest.mark.parametrize(
    ("content", "content_type", "status", "key"),
    [
        (b'{"create_source": "Account", "first_name": "A"}', "text/plain", 415, "unsupported_media_type"),
        (b"first_name=A", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"create_source": "Account", "first_name": "A"}', None, 415, "unsupported_media_type"),
        (b'{"create_source": "Account",', "application/json", 400, VALIDATION),
        (b'["create_source"]', "application/json; charset=utf-8", 400, VALIDATION),
        (b"", "application/json", 400, VALIDATION),
    ],
)
async def test_bodies_must_be_json_objects(
    cc: ConstantContact, content: bytes, content_type: str | None, status: int, key: str
) -> None:
    headers = cc._headers({"content-type": content_type} if content_type else None)

    response = await cc.http.post("/v3/contacts", content=content, headers=headers)

    assert response.status_code == status
    assert [item["error_key"] for item in response.json()] == [key]


# -- sign_up_form --------------------------------------------------------------------------------------


async def test_sign_up_form_creates_then_updates_and_restores(cc: ConstantContact) -> None:
    deleted, _, list_id = await fixtures(cc)
    truth = await cc.ground_truth()
    other_list = list(truth["lists"])[1]

    created = await cc.post(
        "/v3/contacts/sign_up_form", {"email_address": "fresh@example.com", "list_memberships": [list_id]}
    )
    updated = await cc.post(
        "/v3/contacts/sign_up_form",
        {"email_address": "FRESH@example.com", "first_name": "Fresh", "list_memberships": [other_list]},
    )
    restored = await cc.post(
        "/v3/contacts/sign_up_form",
        {"email_address": deleted["email_address"]["address"], "list_memberships": [list_id]},
    )

    assert created.status_code == 201 and created.json()["action"] == "created"
    assert updated.status_code == 200 and updated.json() == {
        "contact_id": created.json()["contact_id"],
        "action": "updated",
    }
    fresh = await current(cc, created.json()["contact_id"])
    assert fresh["list_memberships"] == [list_id, other_list] and fresh["first_name"] == "Fresh"
    assert fresh["email_address"]["permission_to_send"] == "explicit"
    assert restored.status_code == 200 and restored.json()["contact_id"] == deleted["contact_id"]
    revived = await current(cc, deleted["contact_id"])
    assert (
        revived["status"] == "active"
        and "deleted_at" not in revived
        and revived["update_source"] == "Contact"
    )


async def test_sign_up_form_needs_an_address_and_a_list(cc: ConstantContact) -> None:
    response = await cc.post("/v3/contacts/sign_up_form", {"first_name": "A", "list_memberships": []})

    assert response.status_code == 400
    assert errors(response) == [
        "email_address is required.",
        "list_memberships must contain from 1 through 50 ids.",
    ]

"""Contract: the emulator's bodies validate against the definitions in CC's official Swagger file.

The Swagger 2.0 ``definitions`` are used as JSON Schema (draft 7), made stricter (no properties beyond
the listed ones, formats checked): see ``tests/cc_swagger.py``, which checks the client's requests
against the same file.
"""

from __future__ import annotations

from typing import Any

import pytest

from ...cc_swagger import assert_valid, validator
from .conftest import ConstantContact, contacts_with

ALL_INCLUDES = "custom_fields,list_memberships,phone_numbers,street_addresses,taggings,notes"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def assert_error_array(body: Any) -> None:
    assert_valid("APIErrorSchema", body)
    assert isinstance(body, list) and body
    assert all(set(item) == {"error_key", "error_message"} for item in body)


def assert_error_object(body: Any) -> None:
    assert_valid("AuthorizationErrorSchema", body)
    assert isinstance(body, dict) and set(body) == {"error_key", "error_message"}


# -- the checker itself can fail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutation",
    [
        lambda c: c.update(deleted_at="2020-01-01T00:00:00Z"),
        lambda c: c.update(status="deleted"),
        lambda c: c["email_address"].update(created_at="2020-01-01 10:00:00"),
        lambda c: c.update(contact_id="not-a-uuid"),
        lambda c: c.update(first_name="x" * 51),
        lambda c: c.update(list_memberships="07936f78-662a-11eb-af0a-fa163e56c9b0"),
    ],
)
def test_the_strict_schema_rejects_what_the_contract_does_not_allow(mutation: Any) -> None:
    contact = {
        "contact_id": "1618ae62-4752-11e9-9c8a-fa163e6b01c1",
        "email_address": {"address": "a@example.com", "created_at": "2016-03-03T10:53:04-05:00"},
        "created_at": "2016-01-23T13:48:44.108Z",
        "deleted_at": "2016-07-08",
    }
    assert_valid("ContactResource", contact)
    mutation(contact)

    assert list(validator("ContactResource").iter_errors(contact))


# -- collections ---------------------------------------------------------------------------------------


async def test_every_page_of_every_contact_with_every_subresource_is_a_contacts_collection(
    cc: ConstantContact,
) -> None:
    pages = await cc.pages({"status": "all", "include": ALL_INCLUDES, "include_count": "true", "limit": 150})

    assert len(pages) == 3
    for page in pages:
        assert_valid("Contacts", page)
    contacts = [contact for page in pages for contact in page["contacts"]]
    assert any("deleted_at" in c for c in contacts) and any(
        "phone_numbers" in c and c["phone_numbers"] for c in contacts
    )
    assert any(c["street_addresses"] for c in contacts) and any(c["custom_fields"] for c in contacts)
    assert any(c["taggings"] for c in contacts) and any(c["notes"] for c in contacts)
    assert any("opt_out_source" in c["email_address"] for c in contacts)


async def test_the_default_contacts_page_and_an_empty_search_are_contacts_collections(
    cc: ConstantContact,
) -> None:
    assert_valid("Contacts", await cc.ok("/v3/contacts"))
    empty = await cc.ok("/v3/contacts", {"email": "nobody@nowhere.example", "include_count": "true"})

    assert_valid("Contacts", empty)
    assert empty == {"contacts": [], "contacts_count": 0}


async def test_contact_lists_pages_are_contact_list_arrays(cc: ConstantContact) -> None:
    first = await cc.ok(
        "/v3/contact_lists", {"limit": 3, "include_count": "true", "include_membership_count": "all"}
    )
    second = await cc.ok(first["_links"]["next"]["href"])

    for page in (first, second):
        assert_valid("ContactListArray", page)
    assert all("membership_count" in item for item in first["lists"])


# -- single contacts -----------------------------------------------------------------------------------


async def test_single_live_and_deleted_contacts_are_contact_resources(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    sample = contacts_with(truth, "deleted")[:15] + contacts_with(truth, "active", "unsubscribed")[:15]

    for contact in sample:
        for params in ({}, {"include": ALL_INCLUDES}):
            assert_valid("ContactResource", await cc.ok(f"/v3/contacts/{contact['contact_id']}", params))


async def test_create_update_restore_and_sign_up_answers_follow_their_definitions(
    cc: ConstantContact,
) -> None:
    truth = await cc.ground_truth()
    list_id = next(iter(truth["lists"]))
    deleted = contacts_with(truth, "deleted")[0]

    created = await cc.post(
        "/v3/contacts",
        {
            "create_source": "Account",
            "email_address": {"address": "Neu.Kunde+shop@Example.COM"},
            "first_name": "Zoë",
            "phone_numbers": [{"phone_number": "+1-555-555-5555", "kind": "mobile"}],
            "street_addresses": [{"kind": "home", "city": "Chicago"}],
            "notes": [{"content": "hello"}],
            "custom_fields": [{"custom_field_id": UNKNOWN_ID, "value": "x"}],
            "list_memberships": [list_id],
        },
    )
    restored = await cc.put(
        f"/v3/contacts/{deleted['contact_id']}",
        {
            "update_source": "Account",
            "email_address": deleted["email_address"],
            "list_memberships": [list_id],
        },
    )
    signed_up = await cc.post(
        "/v3/contacts/sign_up_form", {"email_address": "new@example.org", "list_memberships": [list_id]}
    )

    assert created.status_code == 201 and restored.status_code == 200 and signed_up.status_code == 201
    assert_valid("ContactResource", created.json())
    assert_valid("ContactResource", restored.json())
    assert_valid("ContactCreateOrUpdateResponse", signed_up.json())


# -- activities ----------------------------------------------------------------------------------------


async def test_activities_follow_their_definitions_in_every_state(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    live = [c["contact_id"] for c in contacts_with(truth, "active")[:4]]
    deleted = [c["contact_id"] for c in contacts_with(truth, "deleted")[:4]]
    list_id = next(iter(truth["lists"]))

    deleting = await cc.post("/v3/activities/contact_delete", {"contact_ids": [*live, UNKNOWN_ID]})
    by_list = await cc.post("/v3/activities/contact_delete", {"list_ids": [list_id]})
    adding = await cc.post(
        "/v3/activities/add_list_memberships", {"source": {"contact_ids": deleted}, "list_ids": [list_id]}
    )

    assert {deleting.status_code, by_list.status_code, adding.status_code} == {201}
    assert_valid("ActivityDeleteStatus", deleting.json())
    assert_valid("ActivityDeleteStatus", by_list.json())
    assert_valid("ActivityListsMembership", adding.json())
    for advance in (0.0, 1.0, 10.0):  # initialized, processing, completed
        await cc.advance_clock(advance)
        for created in (deleting, by_list, adding):
            assert_valid("Activity", await cc.ok(created.json()["_links"]["self"]["href"]))


# -- errors --------------------------------------------------------------------------------------------


async def test_error_bodies_are_arrays_except_for_401_and_429(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    existing = next(iter(truth["contacts"].values()))

    for response in (
        await cc.get("/v3/contacts", {"limit": 0}),
        await cc.get("/v3/contacts/not-a-uuid"),
        await cc.get(f"/v3/contacts/{UNKNOWN_ID}"),
        await cc.get(f"/v3/activities/{UNKNOWN_ID}"),
        await cc.post(
            "/v3/contacts", {"create_source": "Account", "email_address": existing["email_address"]}
        ),
        await cc.http.post(
            "/v3/contacts", content=b"{}", headers={**cc._headers(None), "content-type": "text/plain"}
        ),
        await cc.get("/v3/no_such_thing"),
    ):
        assert response.status_code in (400, 404, 409, 415), response.text
        assert_error_array(response.json())

    unauthorized = await cc.http.get("/v3/contacts")
    assert unauthorized.status_code == 401
    assert_error_object(unauthorized.json())

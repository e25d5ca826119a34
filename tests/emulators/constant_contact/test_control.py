"""The control plane: request counts by Swagger operationId, ground truth, faults, and routing errors."""

from __future__ import annotations

import httpx
import pytest

from .conftest import ConstantContact, contacts_with

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_every_operation_is_counted_under_its_swagger_operation_id(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    deleted, live = contacts_with(truth, "deleted")[0], contacts_with(truth, "active")[0]
    list_id = next(iter(truth["lists"]))

    await cc.get("/v3/contacts")
    await cc.get(f"/v3/contacts/{live['contact_id']}")
    await cc.delete(f"/v3/contacts/{live['contact_id']}")
    await cc.put(
        f"/v3/contacts/{deleted['contact_id']}",
        {
            "update_source": "Account",
            "email_address": deleted["email_address"],
            "list_memberships": [list_id],
        },
    )
    await cc.post("/v3/contacts", {"create_source": "Account", "first_name": "A"})
    await cc.post(
        "/v3/contacts/sign_up_form", {"email_address": "s@example.com", "list_memberships": [list_id]}
    )
    created = await cc.post("/v3/activities/contact_delete", {"contact_ids": [UNKNOWN_ID]})
    await cc.post(
        "/v3/activities/add_list_memberships",
        {"source": {"contact_ids": [UNKNOWN_ID]}, "list_ids": [list_id]},
    )
    await cc.get(created.json()["_links"]["self"]["href"])
    await cc.get("/v3/contact_lists")
    await cc.http.post("/oauth2/default/v1/token", data={"grant_type": "refresh_token"})

    log = (await cc.http.get("/_emulator/requests")).json()
    assert log["operations"] == {
        "getContacts": 1,
        "getContact": 1,
        "deleteContact": 1,
        "putContact": 1,
        "createContact": 1,
        "createOrUpdateContact": 1,
        "postContactDelete": 1,
        "postListAddContact": 1,
        "getActivity": 1,
        "getLists": 1,
        "token": 1,
    }
    assert log["http_requests"] == 11


async def test_the_ground_truth_has_every_contact_list_and_activity(cc: ConstantContact) -> None:
    truth = await cc.ground_truth()
    created = await cc.post("/v3/activities/contact_delete", {"contact_ids": [UNKNOWN_ID]})

    after = await cc.ground_truth()

    assert set(truth) == {"contacts", "lists", "activities"} and truth["activities"] == {}
    assert len(truth["contacts"]) == 400 and len(contacts_with(truth, "deleted")) == 120
    activity = after["activities"][created.json()["activity_id"]]
    assert activity["type"] == "contact_delete" and activity["contact_ids"] == [UNKNOWN_ID]


async def test_scripted_faults_hit_the_api_but_not_the_control_plane(cc: ConstantContact) -> None:
    response = await cc.http.put("/_emulator/faults", json={"script": ["error:503", "error:500", "ok"]})
    assert response.status_code == 200

    statuses = [(await cc.get("/v3/contact_lists")).status_code for _ in range(4)]

    assert statuses == [503, 500, 200, 200]
    assert (await cc.http.get("/_emulator/requests")).json()["http_requests"] == 4


async def test_a_malformed_fault_gives_a_broken_body(cc: ConstantContact) -> None:
    await cc.http.put("/_emulator/faults", json={"script": ["malformed"]})

    response = await cc.get("/v3/contacts")

    with pytest.raises(ValueError):
        response.json()


async def test_a_dropped_connection_is_a_transport_error(cc: ConstantContact) -> None:
    await cc.http.put("/_emulator/faults", json={"script": ["drop"]})

    with pytest.raises(httpx.TransportError):
        await cc.get("/v3/contacts")


async def test_unknown_paths_are_404s_and_wrong_methods_405s_in_the_error_shape(cc: ConstantContact) -> None:
    missing = await cc.get("/v3/contacts/x/y")
    wrong_method = await cc.http.patch("/v3/contacts", headers=cc._headers(None))
    wrong_on_item = await cc.http.post(f"/v3/contacts/{UNKNOWN_ID}", headers=cc._headers(None))

    assert missing.status_code == 404 and missing.json()[0]["error_key"] == "resource.not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()[0]["error_key"] == "method_not_allowed"
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert set(wrong_on_item.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}

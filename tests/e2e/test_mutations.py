"""Delete, then the contact is listed as deleted; restore, then it is not; the consent rule holds."""

from __future__ import annotations

from typing import Any

from .conftest import Stack

DELETE = """
mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) {
    results { index provider contactId status code message bulkOperation { id state percentDone } }
    userErrors { code message field index }
    bulkOperations { id operationId state }
  }
}
"""
RESTORE = """
mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) {
    results { index provider contactId status code message }
    userErrors { code message field index }
  }
}
"""
FIND = """
query($email: String!) {
  deletedContacts(first: 50, filter: {email: [{operator: EQUALS, value: $email}]}) {
    edges { node { id provider contactId email reason restorable restoreBlockedBy } }
  }
}
"""


async def _deleted(stack: Stack, email: str) -> list[dict[str, Any]]:
    body = await stack.graphql(FIND, {"email": email})
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["deletedContacts"]["edges"]]


def _active_cc(truth: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Active Constant Contact contacts whose address GetResponse has no deletion of."""
    gone_at_gr = {d["email"].lower() for d in truth["gr"]["deleted"]}
    return [
        c
        for c in truth["cc"]["contacts"].values()
        if not c.get("deleted_at") and c["email_address"]["address"].lower() not in gone_at_gr
    ][:count]


def _active_gr_emails(truth: dict[str, Any], count: int) -> list[str]:
    deleted = {d["email"].lower() for d in truth["gr"]["deleted"]}
    deleted |= {
        c["email_address"]["address"].lower() for c in truth["cc"]["contacts"].values() if c.get("deleted_at")
    }
    emails = [c["email"] for c in truth["gr"]["contacts"].values() if c["email"].lower() not in deleted]
    return list(dict.fromkeys(emails))[:count]


async def test_delete_one_at_each_provider_then_listed_as_deleted(stack: Stack) -> None:
    truth = await stack.ground_truth()
    cc_email = _active_cc(truth, 1)[0]["email_address"]["address"]
    gr_email = _active_gr_emails(truth, 1)[0]
    assert await _deleted(stack, cc_email) == [] and await _deleted(stack, gr_email) == []

    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "email": cc_email},
                    {"provider": "GETRESPONSE", "email": gr_email},
                ]
            }
        },
    )
    payload = body["data"]["deleteContacts"]
    assert payload["userErrors"] == []
    assert [(r["provider"], r["status"]) for r in payload["results"]] == [
        ("CONSTANT_CONTACT", "DONE"),
        ("GETRESPONSE", "DONE"),
    ]

    (cc,) = await _deleted(stack, cc_email)
    assert cc["provider"] == "CONSTANT_CONTACT" and cc["reason"] == "UNKNOWN"
    gr = await _deleted(stack, gr_email)
    assert {n["reason"] for n in gr} == {"API"} and gr[0]["restorable"] is True


async def test_bulk_delete_at_constant_contact_is_one_activity_and_completes(stack: Stack) -> None:
    truth = await stack.ground_truth()
    contacts = _active_cc(truth, 12)
    await stack.reset_counts()
    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "waitForCompletion": True,
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "contactId": c["contact_id"]} for c in contacts
                ],
            }
        },
    )
    payload = body["data"]["deleteContacts"]
    assert payload["userErrors"] == []
    assert {r["status"] for r in payload["results"]} == {"DONE"}
    (operation,) = payload["bulkOperations"]
    assert operation["state"] == "completed"
    counts = await stack.counts()
    assert counts["cc"]["operations"]["postContactDelete"] == 1
    for contact in contacts[:3]:
        assert [n["contactId"] for n in await _deleted(stack, contact["email_address"]["address"])] == [
            contact["contact_id"]
        ]

    polled = await stack.graphql(
        "query($id: ID!) { bulkOperation(id: $id) { state itemsTotal } }", {"id": operation["id"]}
    )
    assert polled["data"]["bulkOperation"] == {"state": "completed", "itemsTotal": 12}


async def test_restore_at_constant_contact_needs_lists_then_the_contact_is_back(stack: Stack) -> None:
    lists = (await stack.graphql("{ constantContactLists { id name } }"))["data"]["constantContactLists"]
    truth = await stack.ground_truth()
    deleted = [
        c
        for c in truth["cc"]["contacts"].values()
        if c.get("deleted_at") and c["email_address"].get("permission_to_send") != "unsubscribed"
    ]
    email = deleted[0]["email_address"]["address"]
    (node,) = await _deleted(stack, email)

    missing_lists = await stack.graphql(RESTORE, {"input": {"contacts": [{"id": node["id"]}]}})
    (result,) = missing_lists["data"]["restoreContacts"]["results"]
    assert (result["status"], result["code"]) == ("FAILED", "LIST_IDS_REQUIRED")

    body = await stack.graphql(
        RESTORE, {"input": {"contacts": [{"id": node["id"]}], "constantContactListIds": [lists[0]["id"]]}}
    )
    (result,) = body["data"]["restoreContacts"]["results"]
    assert result["status"] == "DONE", body
    assert await _deleted(stack, email) == []


async def test_restore_at_getresponse_is_queued_then_no_longer_deleted(stack: Stack) -> None:
    truth = await stack.ground_truth()
    active = {(c["campaign"], c["email"].lower()) for c in truth["gr"]["contacts"].values()}
    candidates = [
        d
        for d in truth["gr"]["deleted"]
        if d["reason"] in ("api", "user", "support") and (d["campaign"], d["email"].lower()) not in active
    ]
    email = candidates[0]["email"]
    nodes = await _deleted(stack, email)
    assert nodes and all(n["restorable"] for n in nodes)

    body = await stack.graphql(
        RESTORE, {"input": {"contacts": [{"provider": "GETRESPONSE", "email": email}]}}
    )
    results = body["data"]["restoreContacts"]["results"]
    assert {r["status"] for r in results} == {"PENDING"}, body
    await stack.gr.post("/_emulator/clock", json={"advance_seconds": 3600})  # the person confirms
    assert await _deleted(stack, email) == []


async def test_withdrawn_consent_is_not_restored_without_an_override(stack: Stack) -> None:
    truth = await stack.ground_truth()
    active = {(c["campaign"], c["email"].lower()) for c in truth["gr"]["contacts"].values()}
    complained = next(
        d
        for d in truth["gr"]["deleted"]
        if d["reason"] == "complaint" and (d["campaign"], d["email"].lower()) not in active
    )
    nodes = [
        n for n in await _deleted(stack, complained["email"]) if n["contactId"] == complained["contact_id"]
    ]
    (node,) = nodes
    assert node["restorable"] is False and "complaint" in node["restoreBlockedBy"]

    body = await stack.graphql(RESTORE, {"input": {"contacts": [{"id": node["id"]}]}})
    (result,) = body["data"]["restoreContacts"]["results"]
    assert (result["status"], result["code"]) == ("SKIPPED", "CONSENT_REQUIRED")
    assert body["data"]["restoreContacts"]["userErrors"][0]["code"] == "CONSENT_REQUIRED"

    body = await stack.graphql(
        RESTORE,
        {
            "input": {
                "contacts": [{"id": node["id"]}],
                "consentOverride": {"reason": "written consent, ticket 4411"},
            }
        },
    )
    (result,) = body["data"]["restoreContacts"]["results"]
    assert result["status"] == "PENDING", body


async def test_delete_of_unknown_contacts_reports_per_contact(stack: Stack) -> None:
    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"provider": "GETRESPONSE", "email": "nobody-here@example.invalid"},
                    {"provider": "GETRESPONSE", "contactId": "zzzz"},
                    {"id": "not-an-id"},
                ]
            }
        },
    )
    payload = body["data"]["deleteContacts"]
    codes = {e["index"]: e["code"] for e in payload["userErrors"]}
    assert codes == {0: "NOT_FOUND", 1: "NOT_FOUND", 2: "INVALID_ID"}


async def test_a_retried_delete_with_its_idempotency_key_does_not_reach_the_providers_again(
    stack: Stack,
) -> None:
    truth = await stack.ground_truth()
    email = _active_gr_emails(truth, 1)[0]
    cc_email = _active_cc(truth, 1)[0]["email_address"]["address"]
    request = {
        "input": {
            "idempotencyKey": "svc-42:attempt",
            "contacts": [
                {"provider": "GETRESPONSE", "email": email},
                {"provider": "CONSTANT_CONTACT", "email": cc_email},
            ],
        }
    }
    await stack.reset_counts()
    first = await stack.graphql(DELETE, request)
    counts = await stack.counts()
    retried = await stack.graphql(DELETE, request)
    assert retried == first
    assert [r["status"] for r in first["data"]["deleteContacts"]["results"]] == ["DONE", "DONE"]
    assert await stack.counts() == counts  # the retry made no upstream request at all
    assert counts["gr"]["operations"]["delete_contact"] == 1

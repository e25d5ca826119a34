"""The audit trail over real HTTP: every contact of a delete and a restore leaves its event, with the
gateway's request id and the caller's correlation id; the events survive a restart of the gateway on
the same database (SQLite file and PostgreSQL); ``auditEvents`` filters them; a keyed retry by the
same principal is replayed, not re-run, and is audited as a replay.

Each principal is a service key of its own, sent as a bearer credential; two principals using the
same idempotency key each run once.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from gateway.store import IssuedKey

from ..store.conftest import database_url  # noqa: F401  (the fixture: an empty SQLite or PostgreSQL database)
from .conftest import Stack, StackFactory
from .test_mutations import DELETE, RESTORE, _active_gr_emails

EVENTS = """
query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { node {
      id at operation provider index contactId email status code overrideReason
      requestId correlationId idempotencyKey dryRun replay principal { kind id name }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def graphql_as(
    stack: Stack,
    query: str,
    variables: dict[str, Any],
    *,
    key: IssuedKey | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """The answer and the gateway's request id (its X-Request-ID), as ``key`` (default: the stack's)."""
    credential = {"authorization": f"Bearer {key.credential}"} if key is not None else {}
    response = await stack.gateway.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"accept": "application/graphql-response+json", **credential, **(headers or {})},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, response.headers["x-request-id"]


async def events(stack: Stack, **filter: Any) -> list[dict[str, Any]]:
    body = await stack.graphql(EVENTS, {"filter": filter, "first": 100})
    assert "errors" not in body, body
    assert body["data"]["auditEvents"]["pageInfo"]["hasNextPage"] is False
    return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]


def _restorable_gr(truth: dict[str, Any]) -> dict[str, Any]:
    active = {(c["campaign"], c["email"].lower()) for c in truth["gr"]["contacts"].values()}
    return next(
        d
        for d in truth["gr"]["deleted"]
        if d["reason"] in ("api", "user", "support") and (d["campaign"], d["email"].lower()) not in active
    )


async def test_every_contact_of_a_delete_and_a_restore_is_audited_and_survives_a_restart(
    make_stack: StackFactory,
    database_url: str,  # noqa: F811
) -> None:
    url = SecretStr(database_url)
    async with make_stack(database_url=url) as stack:
        crm = await stack.named_key("crm-sync", "contacts:delete", "contacts:restore")
        truth = await stack.ground_truth()
        gr_email = _active_gr_emails(truth, 1)[0]
        deleted = _restorable_gr(truth)
        delete_input = {
            "contacts": [
                {"provider": "GETRESPONSE", "email": gr_email},
                {"provider": "GETRESPONSE", "email": "nobody-here@example.invalid"},
                {"id": "not-an-id"},
            ]
        }
        deleted_body, delete_id = await graphql_as(
            stack, DELETE, {"input": delete_input}, key=crm, headers={"X-Request-ID": "ticket-4411-delete"}
        )
        assert [r["status"] for r in deleted_body["data"]["deleteContacts"]["results"]] == ["DONE", "SKIPPED"]
        restore_input = {
            "contacts": [{"provider": "GETRESPONSE", "contactId": deleted["contact_id"]}],
            "dryRun": True,
        }
        _, restore_id = await graphql_as(stack, RESTORE, {"input": restore_input}, key=crm)

    async with make_stack(database_url=url) as restarted:  # a new gateway process state, same database
        found = await events(restarted)
        by_request = sorted((e["requestId"], e["index"], e["status"], e["code"] or "") for e in found)
        assert by_request == sorted(
            [
                (delete_id, 0, "DONE", ""),
                (delete_id, 1, "SKIPPED", "NOT_FOUND"),
                (delete_id, 2, "SKIPPED", "INVALID_ID"),
                (restore_id, 0, "SKIPPED", "DRY_RUN"),
            ]
        )
        for event in found:
            assert event["principal"] == {"kind": "KEY", "id": crm.key.id, "name": "crm-sync"}
            assert event["status"] != "UNKNOWN"
        done = next(e for e in found if e["status"] == "DONE")
        assert (done["operation"], done["provider"], done["email"]) == (
            "deleteContacts",
            "GETRESPONSE",
            gr_email,
        )
        assert done["correlationId"] == "ticket-4411-delete" and done["requestId"] != "ticket-4411-delete"
        assert done["dryRun"] is False and done["replay"] is False

        assert {e["index"] for e in await events(restarted, operation="deleteContacts")} == {0, 1, 2}
        (dry,) = await events(restarted, operation="restoreContacts", provider="GETRESPONSE")
        assert (dry["contactId"], dry["dryRun"]) == (deleted["contact_id"], True)
        assert [e["id"] for e in await events(restarted, email=gr_email.upper())] == [done["id"]]
        assert [e["id"] for e in await events(restarted, contactId=deleted["contact_id"])] == [dry["id"]]
        assert len(await events(restarted, principal=crm.key.id)) == 4
        assert await events(restarted, principal="k-someone-else") == []
        assert await events(restarted, to=done["at"]) == []  # `to` is exclusive; nothing came before
        assert len(await events(restarted, **{"from": done["at"]})) == 4


@pytest.mark.parametrize("mutation", ["delete", "restore"])
async def test_a_keyed_retry_by_the_same_principal_is_replayed_and_audited_as_a_replay(
    stack: Stack, mutation: str
) -> None:
    truth = await stack.ground_truth()
    if mutation == "delete":
        query = DELETE
        contact = {"provider": "GETRESPONSE", "email": _active_gr_emails(truth, 1)[0]}
        operation = "delete_contact"
    else:
        query = RESTORE
        contact = {"provider": "GETRESPONSE", "contactId": _restorable_gr(truth)["contact_id"]}
        operation = "add_contact"
    request = {"input": {"contacts": [contact], "idempotencyKey": f"svc-7:{mutation}"}}
    await stack.reset_counts()
    first = await stack.graphql(query, request)
    counts = await stack.counts()
    assert counts["gr"]["operations"].get(operation) == 1, counts
    again = await stack.graphql(query, request)
    assert again == first
    assert await stack.counts() == counts  # no upstream request for the retry

    recorded = await events(stack)
    assert sorted((e["replay"], e["idempotencyKey"]) for e in recorded) == [
        (False, f"svc-7:{mutation}"),
        (True, f"svc-7:{mutation}"),
    ]
    assert len({e["requestId"] for e in recorded}) == 2


async def test_two_principals_with_the_same_idempotency_key_each_run_once(stack: Stack) -> None:
    truth = await stack.ground_truth()
    first_email, second_email = _active_gr_emails(truth, 2)
    alice = await stack.named_key("alice", "contacts:delete", "audit:read")
    bob = await stack.named_key("bob", "contacts:delete")
    await stack.reset_counts()
    answers = []
    for key, email in ((alice, first_email), (bob, second_email), (alice, first_email)):
        request = {
            "input": {"contacts": [{"provider": "GETRESPONSE", "email": email}], "idempotencyKey": "k-1"}
        }
        body, _ = await graphql_as(stack, DELETE, request, key=key)
        answers.append(body["data"]["deleteContacts"]["results"])
    assert [r[0]["status"] for r in answers] == ["DONE", "DONE", "DONE"]
    assert answers[2] == answers[0]  # alice's retry is her own result, replayed
    counts = await stack.counts()
    assert counts["gr"]["operations"].get("delete_contact") == 2  # alice once, bob once
    by_principal = {(e["principal"]["name"], e["email"], e["replay"]) for e in await events(stack)}
    assert by_principal == {
        ("alice", first_email, False),
        ("bob", second_email, False),
        ("alice", first_email, True),
    }

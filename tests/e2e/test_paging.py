"""Walking every page yields each matching contact exactly once, even while contacts change."""

from __future__ import annotations

from typing import Any

from .conftest import Stack

PAGE = """
query($after: String) {
  deletedContacts(first: 40, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    sources { provider status ageSeconds }
    edges { cursor node { id provider contactId deletedOn deletedAt } }
  }
}
"""


async def _page(stack: Stack, after: str | None) -> dict[str, Any]:
    body = await stack.graphql(PAGE, {"after": after})
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["deletedContacts"]
    return connection


async def test_every_contact_once_while_contacts_are_deleted_and_restored(stack: Stack) -> None:
    first = await _page(stack, None)
    total = first["totalCount"]
    seen = [e["node"]["id"] for e in first["edges"]]

    truth = await stack.ground_truth()
    # Change both providers between pages: new deletions, and a restore of a listed contact.
    active_cc = [c for c in truth["cc"]["contacts"].values() if not c.get("deleted_at")][:3]
    for contact in active_cc:
        response = await stack.cc.delete(
            f"/v3/contacts/{contact['contact_id']}", headers={"authorization": "Bearer demo-cc-access-token"}
        )
        assert response.status_code == 204
    active_gr = list(truth["gr"]["contacts"])[:3]
    for contact_id in active_gr:
        reply = await stack.gr.post(
            "/",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "delete_contact",
                "params": ["demo-gr-api-key", {"contact": contact_id}],
            },
        )
        assert reply.json()["result"] == {"deleted": 1}

    after = first["pageInfo"]["endCursor"]
    pages = 1
    while after:
        page = await _page(stack, after)
        pages += 1
        assert page["totalCount"] == total
        assert page["pageInfo"]["hasPreviousPage"] is True
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None

    assert pages == -(-total // 40)
    assert len(seen) == len(set(seen)) == total

    fresh = await _page(stack, None)
    assert fresh["totalCount"] == total + 6  # a new first page sees the changes


async def test_cursors_resume_exactly_after_the_edge(stack: Stack) -> None:
    first = await _page(stack, None)
    middle = first["edges"][9]
    resumed = await _page(stack, middle["cursor"])
    assert resumed["edges"][0]["node"] == first["edges"][10]["node"]


async def test_order_is_most_recent_deletion_first_with_timed_before_day_only(stack: Stack) -> None:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = await _page(stack, after)
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    keys = [(n["deletedOn"], n["deletedAt"] is not None, n["deletedAt"] or "") for n in nodes]
    assert keys == sorted(keys, reverse=True)

"""The design's core promise, counted by the emulators: nested and by-key lookups are batched."""

from __future__ import annotations

from .conftest import Stack

PAGE_WITH_NESTED = """
{ deletedContacts(first: 100, filter: {providers: [GETRESPONSE]}) {
    edges { node { contactId ... on GetResponseDeletedContact { campaign { name } message { id subject } } } }
} }
"""
BY_EMAIL = """
query($emails: [String!]!) {
  deletedContactsByEmail(emails: $emails) {
    email suppressedBy deletedContacts { provider contactId reason }
  }
}
"""


async def test_a_page_of_100_with_campaign_and_message_costs_two_requests(stack: Stack) -> None:
    await stack.reset_counts()
    body = await stack.graphql(PAGE_WITH_NESTED)
    assert "errors" not in body
    nodes = [e["node"] for e in body["data"]["deletedContacts"]["edges"]]
    assert len(nodes) == 100
    assert all(n["campaign"]["name"] for n in nodes)
    assert any(n["message"] is None for n in nodes) and any(n["message"] for n in nodes)
    counts = (await stack.counts())["gr"]
    # One batch (get_contacts_deleted + the get_contacts that tells superseded deletions), then one
    # batch with get_campaigns and one get_message per distinct message (GetResponse's get_messages
    # takes no message ids).
    assert counts["operations"]["get_contacts_deleted"] == 1
    assert counts["operations"]["get_campaigns"] == 1
    distinct_messages = {n["message"]["id"] for n in nodes if n["message"]}
    assert counts["operations"]["get_message"] == len(distinct_messages)
    assert counts["http_requests"] == 2
    assert (await stack.counts())["cc"]["http_requests"] == 0


async def test_fifty_emails_cost_one_getresponse_request_and_no_throttling(stack: Stack) -> None:
    truth = await stack.ground_truth()
    # 30 distinct addresses removed at GetResponse (its history may hold one twice), then 20 more
    # deleted at Constant Contact (a fifth of the seeded addresses exist at both providers).
    distinct: dict[str, str] = {}
    for email in (d["email"] for d in truth["gr"]["deleted"]):
        if len(distinct) < 30:
            distinct.setdefault(email.lower(), email)
    for contact in truth["cc"]["contacts"].values():
        if contact.get("deleted_at") and len(distinct) < 50:
            distinct.setdefault(
                contact["email_address"]["address"].lower(), contact["email_address"]["address"]
            )
    emails = list(distinct.values())
    assert len(set(map(str.lower, emails))) == 50
    repeated = [*emails, *(e.upper() for e in emails[:10])]  # the same keys again, other case

    await stack.reset_counts()
    body = await stack.graphql(BY_EMAIL, {"emails": repeated})
    assert "errors" not in body
    answers = body["data"]["deletedContactsByEmail"]
    assert len(answers) == 60
    by_email = {a["email"].lower(): a for a in answers}
    assert all(by_email[e.lower()]["deletedContacts"] for e in emails)

    counts = await stack.counts()
    assert counts["gr"]["http_requests"] == 1
    assert counts["gr"]["operations"]["get_contacts_deleted"] == 50  # repeated keys fetched once
    assert counts["cc"]["operations"].get("throttled", 0) == 0
    assert counts["cc"]["http_requests"] <= 2  # a full listing of the deleted contacts beats 20 GETs


async def test_nodes_of_many_ids_cost_one_listing_per_provider(stack: Stack) -> None:
    body = await stack.graphql("{ deletedContacts(first: 150) { edges { node { id provider } } } }")
    ids = [e["node"]["id"] for e in body["data"]["deletedContacts"]["edges"]]
    await stack.reset_counts()
    body = await stack.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on DeletedContact { email } } }", {"ids": ids}
    )
    assert "errors" not in body
    assert [n["id"] for n in body["data"]["nodes"]] == ids
    counts = await stack.counts()
    assert counts["gr"]["http_requests"] == 1
    assert counts["cc"]["http_requests"] <= 2


async def test_concurrent_identical_first_pages_share_one_listing_per_provider(stack: Stack) -> None:
    import asyncio

    query = "{ deletedContacts(first: 10) { totalCount sources { provider fetchedAt } } }"
    # Each provider takes a second to answer, so the six requests sent at once all join the first
    # listing while it is in flight; with instant answers a loaded machine can finish that listing
    # before the last request reaches the gateway, and that one would rightly fetch again.
    await stack.faults("cc", latency_ms=1000)
    await stack.faults("gr", latency_ms=1000)
    await stack.reset_counts()
    bodies = await asyncio.gather(*(stack.graphql(query) for _ in range(6)))
    assert len({b["data"]["deletedContacts"]["totalCount"] for b in bodies}) == 1
    counts = await stack.counts()
    assert counts["gr"]["operations"]["get_contacts_deleted"] == 1
    assert counts["cc"]["operations"]["getContacts"] == 1

    # Each request still gets its own snapshot, and a later first page reads the providers again.
    await stack.graphql(query)
    assert (await stack.counts())["gr"]["operations"]["get_contacts_deleted"] == 2

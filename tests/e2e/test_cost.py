"""Query cost over real HTTP: the alias attacks are refused before any upstream request, and an
accepted request says what it cost."""

from __future__ import annotations

from .conftest import Stack, StackFactory

JSON = {"accept": "application/json"}


async def upstream(stack: Stack) -> int:
    counts = await stack.counts()
    return int(counts["cc"]["http_requests"]) + int(counts["gr"]["http_requests"])


async def test_thirty_aliases_of_a_hundred_address_lookups_are_refused_unsent(stack: Stack) -> None:
    aliased = " ".join(f"a{n}: deletedContactsByEmail(emails: $emails) {{ email }}" for n in range(30))
    emails = [f"person{n}@example.com" for n in range(100)]
    await stack.reset_counts()
    response = await stack.gateway.post(
        "/graphql",
        json={"query": f"query($emails: [String!]!) {{ {aliased} }}", "variables": {"emails": emails}},
        headers=JSON,
    )
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 6000, "limit": 2000}
    assert await upstream(stack) == 0


async def test_thirty_aliases_of_large_first_pages_are_refused_unsent(stack: Stack) -> None:
    pages = " ".join(
        f'p{n}: deletedContacts(first: 500, filter: {{email: [{{operator: CONTAINS, value: "%{n}%"}}]}})'
        " { totalCount }"
        for n in range(30)
    )
    await stack.reset_counts()
    response = await stack.gateway.post(
        "/graphql", json={"query": f"{{ {pages} }}"}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert await upstream(stack) == 0


async def test_an_accepted_request_reports_its_cost(stack: Stack) -> None:
    body = await stack.graphql("{ deletedContacts(first: 5) { totalCount } constantContactLists { id } }")
    assert body["extensions"]["cost"] == {"requested": 101, "limit": 2000}
    assert body["data"]["deletedContacts"]["totalCount"] > 0


async def test_the_limit_is_a_setting(make_stack: StackFactory) -> None:
    async with make_stack(max_query_cost=50) as stack:
        body = (
            await stack.gateway.post("/graphql", json={"query": "{ deletedContacts { totalCount } }"})
        ).json()
        assert body["errors"][0]["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 100, "limit": 50}
        page = await stack.graphql("{ deletedContacts(filter: {providers: [GETRESPONSE]}) { totalCount } }")
        assert page["extensions"]["cost"]["requested"] == 50

"""Budgets per principal, over real HTTP: a principal past its daily cost or its rate is refused
(RATE_LIMITED, retryAfter) before any upstream request while another principal is still served;
reads leave a reserve for mutations; with Redis, replicas share one principal's budget."""

from __future__ import annotations

import time
from typing import Any

import httpx

from gateway.app import create_app
from gateway.serving import BackgroundServer
from gateway.store import IssuedKey

from .conftest import Stack, StackFactory

FIRST_PAGE = "{ deletedContacts(first: 5) { totalCount } }"  # cost 100: a listing at both providers
DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { status code } } }"""


async def new_key(stack: Stack, name: str, **limits: int) -> IssuedKey:
    return await stack.named_key(name, "contacts:read", "contacts:delete", **limits)


async def post(
    client: httpx.AsyncClient, key: IssuedKey, query: str, variables: Any = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {key.credential}", "accept": "application/json"},
    )
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    [error] = body["errors"]
    assert "data" not in body
    extensions: dict[str, Any] = error["extensions"]
    return extensions


async def upstream(stack: Stack) -> int:
    counts = await stack.counts()
    return int(counts["cc"]["http_requests"]) + int(counts["gr"]["http_requests"])


async def test_a_principal_past_its_daily_cost_is_refused_while_another_is_served(stack: Stack) -> None:
    capped = await new_key(stack, "capped", daily_cost=150)  # reads may use 120 of it (20% reserve)
    other = await new_key(stack, "other")
    assert "errors" not in await post(stack.gateway, capped, FIRST_PAGE)
    await stack.reset_counts()
    refused = refusal(await post(stack.gateway, capped, FIRST_PAGE))
    assert refused["code"] == "RATE_LIMITED"
    assert 0 < refused["retryAfter"] <= 86_400
    assert await upstream(stack) == 0
    assert "errors" not in await post(stack.gateway, other, FIRST_PAGE)

    # The reserve is the capped principal's mutations': a delete (cost 1) still goes through.
    truth = await stack.ground_truth()
    gone = {d["email"].lower() for d in truth["gr"]["deleted"]}
    email = next(c["email"] for c in truth["gr"]["contacts"].values() if c["email"].lower() not in gone)
    deleted = await post(
        stack.gateway, capped, DELETE, {"input": {"contacts": [{"provider": "GETRESPONSE", "email": email}]}}
    )
    assert deleted["data"]["deleteContacts"]["results"] == [{"status": "DONE", "code": None}]


async def test_a_principal_past_its_rate_is_refused_until_the_next_minute(stack: Stack) -> None:
    for attempt in range(3):
        key = await new_key(stack, f"chatty-{attempt}", requests_per_minute=3)
        minute = int(time.time() // 60)
        bodies = [await post(stack.gateway, key, "{ providers { provider } }") for _ in range(4)]
        if int(time.time() // 60) != minute:
            continue  # the window turned mid-test: its count started over; try again with a new key
        assert all("errors" not in body for body in bodies[:3])
        refused = refusal(bodies[3])
        assert refused["code"] == "RATE_LIMITED" and 0 < refused["retryAfter"] <= 60
        return
    raise AssertionError("three attempts each crossed a minute boundary")


async def test_replicas_sharing_redis_share_a_principals_budget(make_stack: StackFactory) -> None:
    async with make_stack(redis_url="redis://127.0.0.1:6379/11") as stack:
        capped = await new_key(stack, "capped", daily_cost=150)
        with BackgroundServer(create_app(stack.settings)) as replica:
            async with httpx.AsyncClient(base_url=replica.url, timeout=30) as other_replica:
                assert "errors" not in await post(stack.gateway, capped, FIRST_PAGE)
                assert refusal(await post(other_replica, capped, FIRST_PAGE))["code"] == "RATE_LIMITED"

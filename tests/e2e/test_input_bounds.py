"""Issue 19's reproductions over real HTTP: oversized strings, calendar edges, fragment chains and
wildcard-heavy patterns answer typed errors (or quickly, correctly) and reach no provider."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from emulators import wildcards as emulator_wildcards

from gateway.core import wildcards
from tests.bodies import without_cost

from .conftest import Stack

LONG = "a" * 70_000
LONG_EMAIL = LONG + "@example.com"
LONG_ID = "Q29uc3RhbnRDb250YWN0RGVsZXRlZENvbnRhY3Q6" + LONG  # "ConstantContactDeletedContact:aaa..."

DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { index status } userErrors { code field index message } } }"""
RESTORE = """mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) { results { index status } userErrors { code field index message } } }"""
LIST = """query($f: DeletedContactFilterInput, $a: String) {
  deletedContacts(filter: $f, after: $a) { totalCount } }"""

# (what, query, variables): each carries a 70,000-character string where the issue saw a crash.
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "deletedContactsByEmail",
        "query($e: [String!]!) { deletedContactsByEmail(emails: $e) { email } }",
        {"e": [LONG_EMAIL]},
    ),
    ("EQUALS filter", LIST, {"f": {"email": [{"operator": "EQUALS", "value": LONG_EMAIL}]}}),
    ("CONTAINS filter", LIST, {"f": {"email": [{"operator": "CONTAINS", "value": "%" + LONG}]}}),
    ("name filter", LIST, {"f": {"name": [{"operator": "CONTAINS", "value": LONG}]}}),
    ("campaign name", LIST, {"f": {"campaignName": {"operator": "EQUALS", "value": LONG}}}),
    ("campaign ids", LIST, {"f": {"campaignIds": [LONG]}}),
    ("message ids", LIST, {"f": {"messageIds": ["m1", LONG]}}),
    ("cursor", LIST, {"a": LONG}),
    ("node", "query($id: ID!) { node(id: $id) { id } }", {"id": LONG_ID}),
    ("nodes", "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [LONG_ID]}),
    ("deletedContact", "query($id: ID!) { deletedContact(id: $id) { id } }", {"id": LONG_ID}),
    ("bulkOperation", "query($id: ID!) { bulkOperation(id: $id) { id } }", {"id": LONG_ID}),
]
MUTATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("delete by email", DELETE, {"contacts": [{"provider": "CONSTANT_CONTACT", "email": LONG_EMAIL}]}),
    ("delete by contact id", DELETE, {"contacts": [{"provider": "CONSTANT_CONTACT", "contactId": LONG}]}),
    ("delete by global id", DELETE, {"contacts": [{"id": LONG_ID}]}),
    (
        "restore by email",
        RESTORE,
        {
            "contacts": [{"provider": "CONSTANT_CONTACT", "email": LONG_EMAIL}],
            "constantContactListIds": ["l1"],
        },
    ),
    (
        "restore list ids",
        RESTORE,
        {"contacts": [{"provider": "CONSTANT_CONTACT", "email": "a@b.co"}], "constantContactListIds": [LONG]},
    ),
    (
        "restore campaign id",
        RESTORE,
        {"contacts": [{"provider": "GETRESPONSE", "email": "a@b.co"}], "getResponseCampaignId": LONG},
    ),
    (
        "consent override reason",
        RESTORE,
        {"contacts": [{"provider": "GETRESPONSE", "email": "a@b.co"}], "consentOverride": {"reason": LONG}},
    ),
]


async def _post(stack: Stack, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await stack.gateway.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text[:500]
    assert "Traceback" not in response.text
    assert LONG not in response.text, "the oversized value must not be echoed back"
    body: dict[str, Any] = response.json()
    return body


async def _nothing_sent(stack: Stack) -> None:
    counts = await stack.counts()
    assert counts["cc"]["http_requests"] == 0 and counts["gr"]["http_requests"] == 0, counts


async def test_oversized_strings_are_bad_user_input_before_any_provider_call(live_stack: Stack) -> None:
    for what, query, variables in QUERIES:
        await live_stack.reset_counts()
        body = await _post(live_stack, query, variables)
        codes = [error["extensions"]["code"] for error in body.get("errors", [])]
        assert codes == ["BAD_USER_INPUT"], (what, body)
        await _nothing_sent(live_stack)


async def test_oversized_strings_in_a_mutation_are_refused_with_no_write(live_stack: Stack) -> None:
    # A contact's own value is refused on its item (a global id that does not decode is INVALID_ID, a
    # kind of bad input); a mutation-wide value refuses the whole mutation. Either way nothing is sent.
    for what, mutation, given in MUTATIONS:
        await live_stack.reset_counts()
        body = await _post(live_stack, mutation, {"input": given})
        assert "errors" not in body, (what, body)
        payload = next(iter(body["data"].values()))
        assert payload["results"] == [], (what, payload)
        assert [e["code"] for e in payload["userErrors"]] in (["BAD_USER_INPUT"], ["INVALID_ID"]), (
            what,
            payload,
        )
        await _nothing_sent(live_stack)
    body = await _post(live_stack, DELETE, {"input": {"contacts": [], "idempotencyKey": LONG}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "days",
    [
        {"deletedOn": {"from": "0001-01-01"}},
        {"createdOn": {"to": "9999-12-31"}},
        {"deletedOn": {"on": "9999-12-31"}},
        {"createdOn": {"from": "0001-01-01", "to": "0001-01-02"}},
        {"deletedOn": {"from": "1969-12-31"}},
    ],
)
async def test_calendar_edges_are_bad_user_input(stack: Stack, days: dict[str, Any]) -> None:
    body = await _post(stack, LIST, {"f": days})
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"], body


async def test_the_edges_of_the_accepted_range_answer(live_stack: Stack) -> None:
    """The last day accepted is widened by the Constant Contact adapter past it: no overflow."""
    for days in (
        {"createdOn": {"from": "1970-01-01", "to": "9999-12-30"}},
        {"deletedOn": {"from": "1970-01-01", "to": "9999-12-30"}},
        {"createdOn": {"on": "9999-12-30"}},
    ):
        body = await _post(live_stack, LIST, {"f": days})
        assert "errors" not in body, (days, body)


async def test_a_long_fragment_chain_is_a_validation_error(live_stack: Stack) -> None:
    for length in (33, 240, 600):  # 600: near the 5,000-token limit, past graphql-core's own 200
        fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length))
        query = f"query {{ ...F0 }} {fragments} fragment F{length} on Query {{ __typename }}"
        body = await _post(live_stack, query, {})
        codes = {error["extensions"]["code"] for error in body["errors"]}
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}, (length, body)
        assert "data" not in body or body["data"] is None


async def test_a_short_fragment_chain_still_answers(live_stack: Stack) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(31))
    body = await _post(
        live_stack, f"query {{ ...F0 }} {fragments} fragment F31 on Query {{ __typename }}", {}
    )
    assert without_cost(body) == {"data": {"__typename": "Query"}}


PERCENTS = "%" * 9 + "!"


async def test_a_percent_pattern_answers_with_bounded_matching(live_stack: Stack) -> None:
    """The reported stall: ``CONTAINS "%%%%%%%%%!"`` on address and name.  Matching is bounded by
    construction (the step counts below, for every value either matcher sees), so the request and a
    concurrent health check are both answered; the answer is the ground truth's (no address or name
    holds a ``!``)."""
    truth = await live_stack.ground_truth()
    addresses = [d["email"] for d in truth["gr"]["deleted"]]
    addresses += [c["email_address"]["address"] for c in truth["cc"]["contacts"].values()]
    names = [d["name"] or "" for d in truth["gr"]["deleted"]]
    for value in [*addresses, *names]:
        for matcher in (wildcards, emulator_wildcards):
            counter = matcher.StepCounter()
            assert not matcher.LikePattern(PERCENTS).matches(value, counter)  # type: ignore[attr-defined]
            assert counter.steps <= len(value) + len(PERCENTS), (value, counter.steps)

    condition = [{"operator": "CONTAINS", "value": PERCENTS}]
    listing = _post(live_stack, LIST, {"f": {"email": condition}})
    by_name = _post(live_stack, LIST, {"f": {"name": condition}})
    health = live_stack.gateway.get("/healthz")
    emails_body, names_body, health_response = await asyncio.gather(listing, by_name, health)
    assert without_cost(emails_body) == {"data": {"deletedContacts": {"totalCount": 0}}}
    assert without_cost(names_body) == {"data": {"deletedContacts": {"totalCount": 0}}}
    assert health_response.status_code == 200

"""Bad input gets a typed error (``extensions.code``), never a 500 or a traceback."""

from __future__ import annotations

import base64

import pytest

from .conftest import Stack


async def _errors(stack: Stack, query: str, variables: dict[str, object] | None = None) -> list[dict]:
    response = await stack.gateway.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code in (200, 400), response.text
    assert "Traceback" not in response.text
    errors: list[dict] = response.json()["errors"]
    return errors


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ deletedContact(id: "bm90IGFuIGlk") { id } }', "INVALID_ID"),
        ('{ node(id: "%%%") { id } }', "INVALID_ID"),
        ("{ deletedContacts(first: 100000) { totalCount } }", "BAD_USER_INPUT"),
        ("{ deletedContacts(first: 0) { totalCount } }", "BAD_USER_INPUT"),
        ('{ deletedContacts(after: "garbage") { totalCount } }', "INVALID_CURSOR"),
        ("{ deletedContacts(filter: {providers: [MAILCHIMP]}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            '{ deletedContacts(filter: {deletedOn: {from: "2024-13-01"}}) { totalCount } }',
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            '{ deletedContacts(filter: {deletedOn: {from: "2024-05-02", to: "2024-05-01"}}) { totalCount } }',
            "BAD_USER_INPUT",
        ),
        ("{ deletedContacts { totalCount ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_typed_errors(stack: Stack, query: str, code: str) -> None:
    errors = await _errors(stack, query)
    assert [e["extensions"]["code"] for e in errors] == [code], errors


async def test_bad_variables_are_bad_user_input(stack: Stack) -> None:
    query = "query($f: DeletedContactFilterInput) { deletedContacts(filter: $f) { totalCount } }"
    errors = await _errors(stack, query, {"f": {"deletedOn": {"on": "yesterday"}}})
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_expired_cursor_is_cursor_expired(stack: Stack) -> None:
    cursor = base64.urlsafe_b64encode(b"v1:0123456789abcdef01234567:50").decode().rstrip("=")
    errors = await _errors(
        stack, "query($a: String) { deletedContacts(after: $a) { totalCount } }", {"a": cursor}
    )
    assert [e["extensions"]["code"] for e in errors] == ["CURSOR_EXPIRED"]


async def test_a_cursor_of_another_filter_is_invalid(stack: Stack) -> None:
    body = await stack.graphql("{ deletedContacts(first: 5) { pageInfo { endCursor } } }")
    cursor = body["data"]["deletedContacts"]["pageInfo"]["endCursor"]
    query = (
        "query($a: String) { deletedContacts(first: 5, after: $a, filter: {providers: [GETRESPONSE]}) "
        "{ totalCount } }"
    )
    errors = await _errors(stack, query, {"a": cursor})
    assert [e["extensions"]["code"] for e in errors] == ["INVALID_CURSOR"]


async def test_query_limits_are_on(stack: Stack) -> None:
    aliases = " ".join(f"a{i}: providers {{ configured }}" for i in range(40))
    errors = await _errors(stack, "{ " + aliases + " }")
    assert errors and errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    deep = "{ deletedContacts { edges { node { ... on GetResponseDeletedContact { campaign { id } } } } } }"
    assert "errors" not in await stack.graphql(deep)

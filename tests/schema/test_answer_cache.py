"""Which documents may have their answers reused (``gateway.schema.answer_cache.reusable_operation``):
queries of index-only root fields, with no field that changes with the clock or reads a provider,
however the fields are spelled (aliases, fragments, inline fragments)."""

from __future__ import annotations

import re

import pytest
from graphql import parse
from graphql.utilities import get_operation_ast

from gateway.config import Settings
from gateway.schema.answer_cache import INDEX_ROOT_FIELDS, VOLATILE_FIELDS, reusable_operation
from gateway.schema.schema import build_schema


def _reusable(text: str, operation_name: str | None = None) -> bool:
    document = parse(text)
    operation = get_operation_ast(document, operation_name)
    assert operation is not None
    return reusable_operation(document, operation)


@pytest.mark.parametrize(
    "text",
    [
        "{ deletedContacts { edges { node { id email } } pageInfo { endCursor } totalCount } }",
        "query Q($e: [String!]!) { deletedContactsByEmail(emails: $e) { email deletedContacts { id } } }",
        '{ a: deletedContact(id: "x") { id } b: node(id: "y") { id } nodes(ids: ["z"]) { id } }',
        "{ __typename }",
        "{ deletedContacts { sources { provider ok syncedAt fetchedAt count } warnings } }",
        "{ ...Root } fragment Root on Query { deletedContacts { nodes { id } } }",
        "{ ... on Query { deletedContacts { nodes { ...C } } } } fragment C on DeletedContact { id raw }",
    ],
)
def test_queries_of_the_index_alone_are_reusable(text: str) -> None:
    assert _reusable(text)


@pytest.mark.parametrize(
    "text",
    [
        # Root fields that read something other than the index.
        "{ providers { provider } }",
        "{ deletedContacts { nodes { id } } providers { provider } }",
        "{ auditEvents { edges { node { id } } } }",
        "{ constantContactLists { id } }",
        "{ getResponseCampaigns { id } }",
        "{ __schema { queryType { name } } }",
        "{ ...Root } fragment Root on Query { providers { provider } }",
        "{ ... on Query { webhooks { id } } }",
        # Fields that change with the clock, or read GetResponse's catalog, anywhere in the document.
        "{ deletedContacts { sources { lagSeconds } } }",
        "{ deletedContacts { sources { ageSeconds } } }",
        "{ deletedContacts { nodes { ... on GetResponseDeletedContact { campaign { name } } } } }",
        "{ deletedContacts { nodes { ...G } } } fragment G on GetResponseDeletedContact { message { id } }",
        "{ d: deletedContacts { s: sources { l: lagSeconds } } }",
        # Not queries.
        'mutation { deleteContacts(input: {ids: ["x"]}) { __typename } }',
        "subscription { contactEvents { __typename } }",
    ],
)
def test_anything_else_is_not(text: str) -> None:
    assert not _reusable(text)


def test_the_operation_asked_for_is_the_one_judged() -> None:
    text = "query A { deletedContacts { nodes { id } } } query B { providers { provider } }"
    assert _reusable(text, "A") and not _reusable(text, "B")


def test_a_fragment_spread_in_a_cycle_is_followed_once() -> None:
    # Validation refuses cycles before execution; the check must still end on one.
    text = (
        "{ ...A } fragment A on Query { ...B deletedContacts { nodes { id } } } fragment B on Query { ...A }"
    )
    assert _reusable(text)


def test_the_lists_name_fields_of_the_schema() -> None:
    schema = build_schema(Settings()).as_str()
    for name in (INDEX_ROOT_FIELDS - {"__typename"}) | VOLATILE_FIELDS:
        assert re.search(rf"^\s+{name}[(:]", schema, re.MULTILINE), name

"""Query cost: each field's price, multiplied through aliases, list arguments and fragments."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from gateway.core.costs import QueryCosts
from gateway.schema.cost import request_cost

COSTS = QueryCosts(limit=2000, listing=50, page=1, lookup=1, mutation_contact=1)


def cost(query: str, variables: dict[str, Any] | None = None, providers: int = 2) -> int:
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return request_cost(operation, fragments, variables or {}, COSTS, providers=providers)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ providers { provider } }", 0),
        ("{ deletedContacts(first: 50) { totalCount } }", 100),
        ("{ deletedContacts(first: 50, filter: {providers: [GETRESPONSE]}) { totalCount } }", 50),
        ('{ deletedContacts(first: 50, after: "c") { totalCount } }', 1),
        ('{ deletedContactsByEmail(emails: ["a@b.co", "c@d.co"]) { email } }', 4),
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', 3),
        ('{ deletedContact(id: "x") { id } }', 1),
        ("{ constantContactLists { id } getResponseCampaigns { id } }", 2),
        (
            "{ deletedContacts { edges { node { ... on GetResponseDeletedContact {"
            " campaign { id } message { id } } } } } }",
            102,
        ),
        ('mutation { deleteContacts(input: {contacts: [{id: "a"}, {id: "b"}]}) { results { index } } }', 2),
        ('mutation { restoreContacts(input: {contacts: {id: "a"}}) { results { index } } }', 1),
    ],
)
def test_prices(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_aliases_count_each_occurrence() -> None:
    aliased = " ".join(f"a{n}: deletedContactsByEmail(emails: $emails) {{ email }}" for n in range(30))
    emails = [f"p{n}@example.com" for n in range(100)]
    assert cost(f"query($emails: [String!]!) {{ {aliased} }}", {"emails": emails}) == 30 * 100 * 2


def test_variables_decide_list_sizes_and_later_pages() -> None:
    query = (
        "query($after: String, $f: DeletedContactFilterInput) "
        "{ deletedContacts(after: $after, filter: $f) { totalCount } }"
    )
    assert cost(query, {"after": None}) == 100
    assert cost(query, {"after": "cursor"}) == 1
    assert cost(query, {"f": {"providers": ["CONSTANT_CONTACT"]}}) == 50


def test_skip_and_include_follow_the_variables() -> None:
    query = (
        "query($on: Boolean!) "
        "{ deletedContacts @include(if: $on) { totalCount } providers @skip(if: $on) { provider } }"
    )
    assert cost(query, {"on": True}) == 100
    assert cost(query, {"on": False}) == 0


def test_fragments_count_where_spread_and_stay_linear() -> None:
    levels = 40
    fragments = ["fragment F0 on Query { constantContactLists { id } }"]
    fragments += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)]
    query = f"{{ ...F{levels - 1} }}\n" + "\n".join(fragments)
    # 2**39 lists in all: a number, computed without walking them one by one.
    assert cost(query) == 2 ** (levels - 1)

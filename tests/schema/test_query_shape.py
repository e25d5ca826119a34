"""The iterative query-shape rule: Strawberry's depth and alias measures, plus fragment chains, with
no recursion and no re-walking of fragments."""

from __future__ import annotations

import sys

import pytest
from graphql import parse, validate
from strawberry.extensions.max_aliases import create_validator as strawberry_alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth_rule

from gateway.config import Settings
from gateway.schema.query_shape import QueryShape, measure_document, query_shape_rule
from gateway.schema.schema import build_schema, validation_rules

SCHEMA = build_schema(Settings())._schema

DOCUMENTS = [
    "{ providers { provider } }",
    "{ deletedContacts { edges { node { id } } } }",
    "{ a: providers { provider } b: providers { p: provider } }",
    "query Q { ...F } fragment F on Query { deletedContacts { edges { node { ...N } } } } "
    "fragment N on DeletedContact { id email }",
    "{ deletedContacts { edges { node { ... on GetResponseDeletedContact { campaign { id n: name } } } } } }",
    "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }",
    "{ x: __typename ...A ...A } fragment A on Query { y: __typename ...B } "
    "fragment B on Query { z: __typename }",
    "query One { providers { provider } } query Two { deletedContacts { edges { cursor } } }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("max_depth", [1, 2, 3, 4])
def test_depth_and_aliases_are_judged_as_strawberry_judges_them(document: str, max_depth: int) -> None:
    ast = parse(document)
    max_aliases = 2
    theirs = validate(
        SCHEMA, ast, [strawberry_depth_rule(max_depth, None), strawberry_alias_rule(max_aliases)]
    )
    ours = validate(
        SCHEMA,
        ast,
        [query_shape_rule(max_depth=max_depth, max_aliases=max_aliases, max_fragment_chain=10)],
    )
    # Strawberry reports a deep operation once per offending node; the rule once per operation.
    assert {error.message for error in ours} == {error.message for error in theirs}


def _chain(length: int) -> str:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length))
    return f"query {{ ...F0 }} {fragments} fragment F{length} on Query {{ __typename }}"


def test_a_chain_deeper_than_the_stack_is_measured() -> None:
    length = sys.getrecursionlimit() * 2
    assert measure_document(parse(_chain(length), max_tokens=None)) == {
        "anonymous": QueryShape(depth=0, aliases=0, fragment_chain=length + 1)
    }


def test_a_long_chain_is_one_validation_error() -> None:
    rule = query_shape_rule(max_depth=10, max_aliases=30, max_fragment_chain=32)
    # 150: past this rule's limit, short of graphql-core's own guard (200, "Validation aborted.")
    errors = validate(SCHEMA, parse(_chain(150)), [rule])
    assert [error.message for error in errors] == [
        "'anonymous' nests 151 fragment spreads in one another; at most 32 are allowed"
    ]
    assert validate(SCHEMA, parse(_chain(31)), [rule]) == []


def test_fragments_spread_twice_per_level_are_measured_once_each() -> None:
    """Expanded, 60 levels of ``...F{n+1} ...F{n+1}`` hold 2**60 aliases: walking them would never end."""
    levels = 60
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    document = f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ a: __typename }}"
    shape = measure_document(parse(document))["anonymous"]
    assert shape == QueryShape(depth=0, aliases=2**levels, fragment_chain=levels + 1)


def test_cycles_and_unknown_fragments_count_as_empty() -> None:
    document = "{ ...A ...Missing } fragment A on Query { ...B } fragment B on Query { a: __typename ...A }"
    shape = measure_document(parse(document))["anonymous"]
    assert shape.aliases == 1 and shape.fragment_chain == 3  # ...A ...B ...A: the closing spread counts
    rule = query_shape_rule(max_depth=1, max_aliases=1, max_fragment_chain=3)
    errors = validate(SCHEMA, parse(document), [rule])
    assert errors == []  # the rule itself has nothing to say; the specification's rules report the rest


def test_the_schema_uses_the_rule_and_a_chain_cannot_raise() -> None:
    settings = Settings()
    errors = validate(SCHEMA, parse(_chain(600), max_tokens=None), validation_rules(settings))
    assert f"at most {settings.max_fragment_chain} are allowed" in errors[0].message


def test_a_recursion_error_anywhere_is_a_validation_error_not_an_internal_one() -> None:
    from graphql import GraphQLError

    from gateway.schema.errors import shape_errors

    [shaped] = shape_errors(
        [GraphQLError("maximum recursion depth exceeded", original_error=RecursionError())], None
    )
    assert shaped.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert shaped.message == "The document is nested too deeply."

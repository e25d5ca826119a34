"""The README's example queries and mutations are valid against the schema (so they cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import DocumentNode, parse, validate

from gateway.config import Settings
from gateway.schema.schema import build_schema

README = Path(__file__).resolve().parent.parent / "README.md"


def _operations() -> list[DocumentNode]:
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "the README has no GraphQL examples"
    return [
        DocumentNode(definitions=(definition,)) for block in blocks for definition in parse(block).definitions
    ]


def test_every_readme_example_validates() -> None:
    operations = _operations()
    assert len(operations) >= 6
    schema = build_schema(Settings())._schema
    for operation in operations:
        assert validate(schema, operation) == [], operation.definitions[0].loc.source.body[:200]

"""The README's examples are valid, one named operation each, and answer with data on the demo's seed.

Every ```graphql block is run against the accounts ``make demo`` seeds (the same seed, contact counts
and deletion share as ``gateway demo``'s defaults) and the same gateway settings the demo builds, all
three over real HTTP.  Only timing knobs differ from the demo, since they do not change the data:
Constant Contact's per-second limit is raised and its bulk activities finish sooner.  Both emulators
are reseeded before each example, so every example, mutations included, runs exactly as a reader
running it first on a fresh ``make demo`` would.

The "Using it from a client" mappings (Apollo ``possibleTypes``, urql Graphcache keys, GraphQL Code
Generator scalars) are checked against the schema, so they change when it does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulators.commands import demo_settings
from emulators.constant_contact import ConstantContactEmulatorSettings
from emulators.constant_contact import create_app as create_cc
from emulators.getresponse import GetResponseEmulatorSettings
from emulators.getresponse import create_app as create_gr
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    is_abstract_type,
    is_object_type,
    is_scalar_type,
    is_specified_scalar_type,
    parse,
    validate,
)

from gateway.admin import issue_key
from gateway.app import create_app
from gateway.cli import build_parser
from gateway.config import Settings
from gateway.schema.schema import build_schema
from gateway.serving import BackgroundServer

from .e2e.conftest import ALL_SCOPES
from .servers import ServerPool

README = Path(__file__).resolve().parent.parent / "README.md"
FAST_RATE = 100.0


def _graphql_blocks() -> list[str]:
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "the README has no GraphQL examples"
    return blocks


def _operation(block: str) -> OperationDefinitionNode:
    (definition,) = parse(block).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition


def _examples() -> list[tuple[str, str]]:
    """(operation name, block text) of every README example, in README order."""
    examples = []
    for block in _graphql_blocks():
        name = _operation(block).name
        examples.append((name.value if name else "", block))
    return examples


def _schema() -> GraphQLSchema:
    return build_schema(Settings())._schema


# -- the blocks themselves ---------------------------------------------------------------------------


def test_every_block_is_one_named_operation() -> None:
    names = []
    for block in _graphql_blocks():
        definitions = parse(block).definitions
        assert len(definitions) == 1, f"one operation per block, got {len(definitions)}:\n{block}"
        operation = definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        assert operation.name is not None, f"anonymous operation:\n{block}"
        names.append(operation.name.value)
    assert len(names) >= 6
    assert len(set(names)) == len(names), f"operation names repeat: {names}"


def test_every_readme_example_validates() -> None:
    for name, block in _examples():
        assert validate(_schema(), parse(block)) == [], name


# -- each example against the demo's seed --------------------------------------------------------------


class DemoStack:
    def __init__(self, gateway: BackgroundServer, emulators: list[BackgroundServer], credential: str) -> None:
        self.gateway = gateway
        self.emulators = emulators
        self.credential = credential

    def reseed(self) -> None:
        for emulator in self.emulators:
            response = httpx.post(f"{emulator.url}/_emulator/reset", timeout=30)
            assert response.status_code == 200, response.text

    def run(self, query: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.gateway.url}/graphql",
            json={"query": query},
            headers={
                "accept": "application/graphql-response+json",
                "authorization": f"Bearer {self.credential}",
            },
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def demo_stack(emulator_servers: ServerPool) -> Iterator[DemoStack]:
    seed = build_parser().parse_args(["demo"]).seed
    cc = emulator_servers.get(
        create_cc,
        ConstantContactEmulatorSettings(
            seed=seed,
            requests_per_second=FAST_RATE,
            activity_initialized_seconds=0.05,
            activity_processing_seconds=0.1,
        ),
    )
    gr = emulator_servers.get(create_gr, GetResponseEmulatorSettings(seed=seed))
    settings = demo_settings(cc.url, gr.url, constant_contact_rate_per_second=FAST_RATE)
    with BackgroundServer(create_app(settings)) as gateway:
        # As `gateway demo` does: a key with every scope.
        yield DemoStack(gateway, [cc, gr], issue_key(settings, "demo", ALL_SCOPES).credential)


# Lists that are allowed (userErrors: required) to be empty in a successful answer.
_MAY_BE_EMPTY = {"userErrors", "errors"}


def empty_parts(value: Any, path: str = "data") -> list[str]:
    """Paths of the empty lists and null top-level fields in ``value``, the ``data`` of an answer."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if (path == "data" and item is None) or (
                isinstance(item, list) and not item and key not in _MAY_BE_EMPTY
            ):
                found.append(where)
            else:
                found.extend(empty_parts(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(empty_parts(item, f"{path}[{index}]"))
    return found


def test_empty_parts_finds_empty_lists_and_null_fields() -> None:
    # The check below is only as good as this: an empty page, a null root field, a nested empty list.
    assert empty_parts({"a": {"edges": []}, "b": None, "c": [{"deletedContacts": []}]}) == [
        "data.a.edges",
        "data.b",
        "data.c[0].deletedContacts",
    ]
    assert empty_parts({"m": {"results": [{"status": "DONE"}], "userErrors": []}}) == []


@pytest.mark.parametrize(("name", "block"), _examples(), ids=[name for name, _ in _examples()])
def test_readme_example_returns_data_on_the_demo_seed(demo_stack: DemoStack, name: str, block: str) -> None:
    demo_stack.reseed()
    body = demo_stack.run(block)
    assert "errors" not in body, body.get("errors")
    data = body["data"]
    assert data, name
    assert empty_parts(data) == [], json.dumps(data, ensure_ascii=False)[:2000]
    if _operation(block).operation is OperationType.MUTATION:
        # "Correct as written": every contact named was acted on, and no input was refused.
        for payload in data.values():
            assert payload["userErrors"] == []
            statuses = {result["status"] for result in payload["results"]}
            assert statuses <= {"DONE", "PENDING"}, payload["results"]


# -- "Using it from a client" ---------------------------------------------------------------------------


def _section(heading: str) -> str:
    text = README.read_text()
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _client_section() -> str:
    return _section("Using it from a client")


def test_apollo_possible_types_match_the_schema() -> None:
    match = re.search(r"const possibleTypes = (\{.*?\n\});", _client_section(), re.DOTALL)
    assert match, "no `const possibleTypes = {...};` in the client section"
    schema = _schema()
    expected = {
        abstract.name: sorted(kind.name for kind in schema.get_possible_types(abstract))
        for abstract in schema.type_map.values()
        if is_abstract_type(abstract)
    }
    assert json.loads(match.group(1)) == expected


def test_urql_keys_name_every_object_type_without_an_id() -> None:
    match = re.search(r"keys: \{\n(.*?)\n  \},", _client_section(), re.DOTALL)
    assert match, "no Graphcache `keys: {...}` in the client section"
    keyed = re.findall(r"^\s+(\w+): ", match.group(1), re.MULTILINE)
    schema = _schema()
    roots = {schema.query_type, schema.mutation_type, schema.subscription_type}
    without_id = {
        kind.name
        for kind in schema.type_map.values()
        if is_object_type(kind)
        and kind not in roots
        and not kind.name.startswith("__")
        and "id" not in kind.fields
    }
    assert sorted(keyed) == sorted(without_id)


def test_codegen_maps_every_custom_scalar() -> None:
    match = re.search(r"scalars: \{(.*?)\}", _client_section())
    assert match, "no codegen `scalars: {...}` in the client section"
    mapped = dict(re.findall(r"(\w+): '([^']+)'", match.group(1)))
    custom = {
        kind.name
        for kind in _schema().type_map.values()
        if is_scalar_type(kind) and not is_specified_scalar_type(kind)
    }
    assert set(mapped) == custom
    assert mapped == {"Date": "string", "DateTime": "string", "EventPosition": "string", "JSON": "unknown"}

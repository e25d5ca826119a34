"""The speed layer's document cache answers exactly as Strawberry's own path does, texts seen before
included, and parses and validates each text once."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, ValidationRule
from strawberry.extensions import AddValidationRules
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.config import Settings
from gateway.core.model import Provider
from gateway.core.principals import Caller, Principal
from gateway.core.services import Services
from gateway.providers.errors import ProviderUnavailable
from gateway.schema.context import GatewayContext
from gateway.schema.fast import documents as documents_module
from gateway.schema.schema import GatewaySchema, build_schema

from .fakes import FakePort

PAGE = """query Page($first: Int!, $after: String) {
  deletedContacts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } sources { provider status count }
    edges { cursor node { id provider contactId email deletedOn reason restorable
      ... on GetResponseDeletedContact { campaignId cycleDay } } }
  }
}"""

TWO_OPERATIONS = """
query First { deletedContacts(first: 2) { totalCount } }
query Second { providers { provider } }
"""

_CURSORS = {"cursor", "startCursor", "endCursor"}


def _without_cursors(value: Any) -> Any:
    """``value`` with every cursor replaced (each first page makes a snapshot of its own)."""
    if isinstance(value, dict):
        return {k: "<cursor>" if k in _CURSORS and v else _without_cursors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_cursors(item) for item in value]
    return value


def _shape(result: Any) -> tuple[str, Any, list[dict[str, Any]], Any]:
    errors = [dict(error.formatted) for error in result.errors or []]
    return type(result).__name__, _without_cursors(result.data), errors, result.extensions


@pytest.fixture
def schemas() -> dict[str, GatewaySchema]:
    """A fresh schema each way (empty caches)."""
    return {"on": build_schema(Settings(speed_layer=True)), "off": build_schema(Settings(speed_layer=False))}


async def _answers(
    schema: GatewaySchema, services: Services, query: str, times: int, **kwargs: Any
) -> list[Any]:
    answers = []
    for _ in range(times):
        context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
        answers.append(_shape(await schema.execute(query, context_value=context, **kwargs)))
    return answers


@pytest.mark.parametrize(
    ("query", "variables", "operation_name"),
    [
        (PAGE, {"first": 5}, None),
        (PAGE, {"first": 5}, "Page"),
        (PAGE, {"first": 0}, None),  # the resolver refuses it: a located error, data null
        (PAGE, {"first": "five"}, None),  # variables that do not coerce: no data at all
        (PAGE, {}, None),  # a required variable missing
        (PAGE, {"first": 3, "after": "not-a-cursor"}, None),
        (TWO_OPERATIONS, None, "Second"),
        ('{ node(id: "bm9wZQ") { id } }', None, None),
        ("{ deletedContacts(first: 1) { noSuchField } }", None, None),  # invalid
        ("{ deletedContacts(first: 1) { ", None, None),  # does not parse
    ],
)
async def test_both_paths_answer_alike_first_and_second_time(
    schemas: dict[str, GatewaySchema],
    services: Services,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> None:
    on, off = [
        await _answers(
            schemas[way], services, query, 2, variable_values=variables, operation_name=operation_name
        )
        for way in ("on", "off")
    ]
    assert on == off
    assert on[0] == on[1]


async def test_partial_errors_are_the_same_both_ways(
    schemas: dict[str, GatewaySchema], services: Services, ports: dict[Provider, FakePort]
) -> None:
    ports[Provider.GETRESPONSE].failure = ProviderUnavailable(
        "down for the test", provider=Provider.GETRESPONSE
    )
    on, off = [
        await _answers(schemas[way], services, PAGE, 2, variable_values={"first": 4}) for way in ("on", "off")
    ]
    assert on == off and on[0] == on[1]
    assert on[0][2] and on[0][1] is not None  # data and errors alike


@pytest.mark.parametrize("way", ["on", "off"])
async def test_operations_not_found_or_not_allowed_raise_as_strawberry_does(
    schemas: dict[str, GatewaySchema], services: Services, way: str
) -> None:
    schema = schemas[way]
    context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
    mutation = 'mutation { restoreContacts(input: {contacts: [{id: "bm9wZQ"}]}) { userErrors { code } } }'
    for _ in range(2):  # a new text, then a known one
        await schema.execute(TWO_OPERATIONS, context_value=context, operation_name="First")
        with pytest.raises(CannotGetOperationTypeError):
            await schema.execute(TWO_OPERATIONS, context_value=context, operation_name="Third")
        with pytest.raises(InvalidOperationTypeError):  # as over GET
            await schema.execute(
                mutation, context_value=context, allowed_operation_types={OperationType.QUERY}
            )


async def test_a_text_is_parsed_and_validated_once_whatever_its_size(
    monkeypatch: pytest.MonkeyPatch, services: Services
) -> None:
    calls: list[Any] = []
    original = documents_module.validate_document

    def counting(*args: Any) -> Any:
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(documents_module, "validate_document", counting)
    schema = build_schema(Settings(speed_layer=True))
    for _ in range(3):
        context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
        result = await schema.execute(PAGE, variable_values={"first": 2}, context_value=context)
        assert result.errors is None
    assert len(calls) == 1
    assert calls[0] is not None


async def test_rules_another_extension_adds_are_applied_on_the_speed_path(services: Services) -> None:
    class NoProviders(ValidationRule):
        def enter_field(self, node: Any, *args: Any) -> None:
            if node.name.value == "providers":
                self.report_error(GraphQLError("providers is off limits"))

    schema = build_schema(Settings(speed_layer=True), extensions=[lambda: AddValidationRules([NoProviders])])
    for _ in range(2):
        context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
        result = await schema.execute("{ providers { provider } }", context_value=context)
        assert result.data is None and [e.message for e in result.errors or []] == ["providers is off limits"]


def test_the_cache_is_bounded() -> None:
    from graphql import parse

    cache = documents_module.DocumentCache(maxsize=2)
    schema = build_schema(Settings())
    texts = [f"query Q{n} {{ providers {{ provider }} }}" for n in range(3)]
    for text in texts:
        document = parse(text)
        cache.remember(text, document)
        assert cache.errors(schema._schema, text, document, ()) == []
    assert len(cache) == 2
    assert cache.document(texts[0]) is None and cache.document(texts[2]) is not None

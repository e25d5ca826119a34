"""Known query texts run straight through graphql-core, and answer as Strawberry's own path does."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.core.model import Provider
from gateway.core.services import Services
from gateway.providers.errors import ProviderUnavailable
from gateway.schema import documents as documents_module
from gateway.schema.context import GatewayContext
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


class _Spy:
    """Counts the executions that took the direct path."""

    def __init__(self, schema: GatewaySchema, monkeypatch: pytest.MonkeyPatch) -> None:
        self.direct = 0
        original = schema._execute_known

        async def counting(*args: Any) -> Any:
            self.direct += 1
            return await original(*args)

        monkeypatch.setattr(schema, "_execute_known", counting)


@pytest.fixture
def schema(monkeypatch: pytest.MonkeyPatch) -> tuple[GatewaySchema, _Spy]:
    built = build_schema()
    return built, _Spy(built, monkeypatch)


async def _twice(
    schema: GatewaySchema, services: Services, query: str, **kwargs: Any
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    answers = []
    for _ in range(2):
        context = GatewayContext.create(services, "req-test")
        answers.append(_shape(await schema.execute(query, context_value=context, **kwargs)))
    return answers[0], answers[1]


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
    ],
)
async def test_a_known_text_answers_as_strawberry_answered_it(
    schema: tuple[GatewaySchema, _Spy],
    services: Services,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> None:
    built, spy = schema
    first, second = await _twice(
        built, services, query, variable_values=variables, operation_name=operation_name
    )
    assert second == first
    assert spy.direct == 1  # the second time only


async def test_partial_errors_are_the_same_on_the_direct_path(
    schema: tuple[GatewaySchema, _Spy], services: Services, ports: dict[Provider, FakePort]
) -> None:
    built, spy = schema
    ports[Provider.GETRESPONSE].failure = ProviderUnavailable(
        "down for the test", provider=Provider.GETRESPONSE
    )
    first, second = await _twice(built, services, PAGE, variable_values={"first": 4})
    assert second == first and first[2] and first[1] is not None  # data and errors alike
    assert spy.direct == 1


async def test_an_exception_escaping_execution_answers_as_strawberry_answers_it(
    schema: tuple[GatewaySchema, _Spy], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, spy = schema
    query = "{ providers { provider } }"
    await _twice(built, services, query)  # known now
    answers = []
    for known in (False, True):  # Strawberry's path, then the direct one
        if not known:
            monkeypatch.setattr(built.documents, "valid_document", lambda query: None)
        else:
            monkeypatch.undo()
            spy = _Spy(built, monkeypatch)
        monkeypatch.setattr(built.execution_context_class, "build", classmethod(lambda cls, *a, **k: 1 / 0))
        context = GatewayContext.create(services, "req-test")
        answers.append(_shape(await built.execute(query, context_value=context)))
    assert answers[0] == answers[1] and answers[0][0] == "PreExecutionError"
    assert spy.direct == 1


async def test_texts_with_errors_and_operations_not_allowed_take_strawberrys_path(
    schema: tuple[GatewaySchema, _Spy], services: Services
) -> None:
    built, spy = schema
    invalid = "{ deletedContacts(first: 1) { noSuchField } }"
    first, second = await _twice(built, services, invalid)
    assert second == first and first[2][0]["message"].startswith("Cannot query field")
    assert built.documents is not None and built.documents.valid_document(invalid) is None

    await _twice(built, services, TWO_OPERATIONS, operation_name="First")
    context = GatewayContext.create(services, "req-test")
    with pytest.raises(CannotGetOperationTypeError):  # no such operation in a known document
        await built.execute(TWO_OPERATIONS, context_value=context, operation_name="Third")
    mutation = 'mutation { restoreContacts(input: {contacts: [{id: "bm9wZQ"}]}) { userErrors { code } } }'
    await built.execute(mutation, context_value=context)  # valid, answered with a user error
    assert built.documents.valid_document(mutation) is not None
    with pytest.raises(InvalidOperationTypeError):  # as over GET
        await built.execute(mutation, context_value=context, allowed_operation_types={OperationType.QUERY})
    assert spy.direct == 1  # the second ``First``, nothing else


async def test_a_document_is_validated_once_whatever_its_size(
    monkeypatch: pytest.MonkeyPatch, services: Services
) -> None:
    calls: list[Any] = []
    original = documents_module.validate_document

    def counting(*args: Any) -> Any:
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(documents_module, "validate_document", counting)
    built = build_schema()
    monkeypatch.setattr(built, "documents", None)  # no direct path: every request validates
    for _ in range(3):
        context = GatewayContext.create(services, "req-test")
        result = await built.execute(PAGE, variable_values={"first": 2}, context_value=context)
        assert result.errors is None
    assert len(calls) == 1


def test_the_caches_are_bounded() -> None:
    cache = documents_module.ValidatedDocuments(maxsize=2)
    built = build_schema()
    from graphql import parse

    texts = [f"query Q{n} {{ providers {{ provider }} }}" for n in range(3)]
    for text in texts:
        assert cache.errors(built._schema, parse(text), (), text) == []
    assert len(cache) == 2
    assert cache.valid_document(texts[0]) is None and cache.valid_document(texts[2]) is not None

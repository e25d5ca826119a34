"""The speed layer reads graphql-core and Strawberry internals; this fails, naming what changed, the
day an upgrade changes one of them (and the gateway then runs without the speed layer, logging why)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.config import Settings
from gateway.schema import fast
from gateway.schema.fast import compat, execution
from gateway.schema.schema import build_schema


def test_the_installed_graphql_core_and_strawberry_fit_the_speed_layer() -> None:
    problems = compat.incompatibilities()
    assert problems == (), (
        "graphql-core or Strawberry changed what the speed layer (gateway/schema/fast/) reads; adapt it "
        "or pin the previous versions:\n- " + "\n- ".join(problems)
    )


def _fresh() -> tuple[str, ...]:
    return compat.incompatibilities.__wrapped__()


def test_a_changed_execute_fields_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = next(c for c in StrawberryGraphQLCoreExecutionContext.__mro__ if "execute_fields" in vars(c))

    def execute_fields(self: Any, parent_type: Any, source_value: Any, path: Any, fields: Any) -> Any:
        raise AssertionError("not called")

    monkeypatch.setattr(owner, "execute_fields", execute_fields)
    problems = _fresh()
    assert any("execute_fields takes (self, parent_type, source_value, path, fields)" in p for p in problems)


def test_plain_fields_no_longer_recognised_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "_field_facts", lambda field: None)  # as if the _is_default mark went
    problems = _fresh()
    assert any("no longer completes plain objects" in p for p in problems), problems


def test_a_missing_strawberry_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr("strawberry.schema.schema_converter.GraphQLCoreConverter.DEFINITION_BACKREF")
    problems = _fresh()
    assert any("DEFINITION_BACKREF" in p for p in problems), problems


async def test_the_schema_runs_without_the_speed_layer_when_the_libraries_changed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fast, "incompatibilities", lambda: ("something changed",))
    with caplog.at_level(logging.WARNING, logger="gateway.schema"):
        schema = build_schema(Settings(speed_layer=True))
    assert schema.execution_context_class is StrawberryGraphQLCoreExecutionContext
    assert "speed layer off" in caplog.text and "something changed" in caplog.text
    assert (await schema.execute("{ __typename }")).data == {"__typename": "Query"}


def test_the_setting_chooses_the_executor() -> None:
    assert build_schema(Settings(speed_layer=True)).execution_context_class is execution.PlainObjectExecutor
    assert (
        build_schema(Settings(speed_layer=False)).execution_context_class
        is StrawberryGraphQLCoreExecutionContext
    )

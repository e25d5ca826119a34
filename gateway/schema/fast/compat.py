"""Whether the installed graphql-core and Strawberry still have the shapes the speed layer reads.

The speed layer overrides ``ExecutionContext.execute_fields`` (private in graphql-core 3.3) and reads
Strawberry internals: the definition back-reference on graphql-core types, the ``_is_default`` mark on
resolvers of plain fields, ``CustomGraphQLEnumType.wrapped_cls``, the ISO-format serializer of dates,
the fields of ``ExecutionContext``.  Any of them may change in a minor release without notice, and
most changes would not fail: the direct path would quietly stop being taken, or, worse, take a
wrong turn.  :func:`incompatibilities` names every difference it finds, by signature and by running a
small probe schema through both paths; ``build_schema`` falls back to Strawberry's own execution (and
logs why) when the list is not empty, and ``tests/schema/test_fast_compat.py`` fails with it.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLEnumType, GraphQLScalarType, MiddlewareManager
from graphql.execution.collect_fields import FieldDetails, FragmentDetails
from strawberry.extensions import SchemaExtension
from strawberry.schema import schema as strawberry_schema
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.schema.types import base_scalars
from strawberry.types import ExecutionContext as StrawberryExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from .documents import CachedDocuments, DocumentCache
from .execution import PlainObjectExecutor, _exact_coercions

__all__ = ["incompatibilities"]


def _parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def _expect_parameters(problems: list[str], where: str, function: Any, expected: list[str]) -> None:
    if not callable(function):
        problems.append(f"{where} is gone")
        return
    found = _parameters(function)
    if found != expected:
        problems.append(
            f"{where} takes ({', '.join(found)}), the speed layer expects ({', '.join(expected)})"
        )


def _expect_names(problems: list[str], where: str, present: set[str], expected: set[str]) -> None:
    missing = sorted(expected - present)
    if missing:
        problems.append(f"{where} has no {', '.join(missing)}")


def _defined_in(cls: type, name: str) -> str:
    """``Class.name`` of the class in ``cls``'s hierarchy that defines ``name`` (for messages)."""
    owner = next((base for base in cls.__mro__ if name in vars(base)), cls)
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def _graphql_core_shapes(problems: list[str]) -> None:
    # The methods PlainObjectExecutor overrides or calls, as the executor it extends inherits them
    # from graphql-core (ExecutionContext before 3.3, Executor/IncrementalExecutor since).
    context = strawberry_schema.StrawberryGraphQLCoreExecutionContext
    for name, expected in (
        (
            "execute_fields",
            ["self", "parent_type", "source_value", "path", "grouped_field_set", "position_context"],
        ),
        ("collect_subfields", ["self", "return_type", "field_details_list"]),
    ):
        _expect_parameters(
            problems, f"graphql-core {_defined_in(context, name)}", getattr(context, name, None), expected
        )
    # Strawberry's and graphql-core's incremental executor pass ``*args, **kwargs`` on: the first
    # ``__init__`` with named parameters is the one whose attributes the executor reads.
    initialiser = next(
        (
            vars(base)["__init__"]
            for base in context.__mro__
            if "__init__" in vars(base)
            and all(
                p.kind is not p.VAR_POSITIONAL
                for p in inspect.signature(vars(base)["__init__"]).parameters.values()
            )
        ),
        None,
    )
    _expect_names(
        problems,
        f"graphql-core {context.__name__}'s executor __init__",
        set(_parameters(initialiser)) if initialiser is not None else set(),
        {"schema", "fragments", "middleware_manager", "is_awaitable"},
    )
    _expect_names(problems, "graphql-core FieldDetails", set(FieldDetails._fields), {"node"})
    _expect_names(problems, "graphql-core FragmentDetails", set(FragmentDetails._fields), {"definition"})
    if not hasattr(MiddlewareManager(), "middlewares"):
        problems.append("graphql-core MiddlewareManager has no middlewares")


def _strawberry_shapes(problems: list[str]) -> None:
    executor = getattr(strawberry_schema, "StrawberryGraphQLCoreExecutionContext", None)
    if not isinstance(executor, type) or not executor.__module__.startswith("strawberry"):
        problems.append("Strawberry's StrawberryGraphQLCoreExecutionContext is gone")
    if not isinstance(getattr(GraphQLCoreConverter, "DEFINITION_BACKREF", None), str):
        problems.append("Strawberry's GraphQLCoreConverter.DEFINITION_BACKREF is gone")
    _expect_parameters(
        problems,
        "Strawberry's strawberry.schema.schema.validate_document",
        getattr(strawberry_schema, "validate_document", None),
        ["schema", "document", "validation_rules"],
    )
    if not callable(getattr(base_scalars, "isoformat", None)):
        problems.append("Strawberry's base_scalars.isoformat (the Date/DateTime serializer) is gone")
    _expect_names(
        problems,
        "Strawberry's ExecutionContext",
        {f.name for f in dataclasses.fields(StrawberryExecutionContext)},
        {"query", "graphql_document", "pre_execution_errors", "validation_rules", "parse_options"},
    )
    _expect_names(
        problems,
        "Strawberry's StrawberryObjectDefinition",
        {f.name for f in dataclasses.fields(StrawberryObjectDefinition)}
        | set(dir(StrawberryObjectDefinition)),
        {"origin", "is_type_of", "concrete_of", "is_graphql_generic", "resolve_type"},
    )
    _expect_names(
        problems,
        "Strawberry's StrawberryField",
        set(dir(StrawberryField)) | set(vars(StrawberryField(python_name="probe"))),
        {"python_name", "default_resolver"},
    )
    _expect_names(
        problems, "Strawberry's SchemaExtension", set(dir(SchemaExtension)), {"on_parse", "on_validate"}
    )


@strawberry.enum(name="ProbeShade")
class _Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@strawberry.interface(name="ProbeItem")
class _Item:
    name: str


@strawberry.type(name="ProbeTile")
class _Tile(_Item):
    shade: _Shade
    laid: date
    spare: bool | None


@strawberry.type(name="ProbeQuery")
class _Probe:
    @strawberry.field
    def items(self) -> list[_Item]:
        return [_Tile(name=f"tile {n}", shade=_Shade.DARK, laid=date(2024, 1, n), spare=None) for n in (1, 2)]


_PROBE_QUERY = "query Probe { items { __typename name ... on ProbeTile { shade laid spare } } }"


class _CountingExecutor(PlainObjectExecutor):
    completed: list[str] = []

    def _complete(self, plan: Any, source: Any, type_name: str) -> dict[str, Any] | None:
        done = super()._complete(plan, source, type_name)
        if done is not None:
            self.completed.append(type_name)
        return done


def _behaviour(problems: list[str]) -> None:
    """The probe schema gives the same answer through both paths, and the direct path takes it."""
    plain = strawberry.Schema(query=_Probe, types=[_Tile])
    cache_ = DocumentCache(maxsize=4)
    fast = strawberry.Schema(
        query=_Probe,
        types=[_Tile],
        execution_context_class=_CountingExecutor,
        extensions=[lambda: CachedDocuments(cache_, [], max_tokens=1000)],
    )
    expected = plain.execute_sync(_PROBE_QUERY)
    _CountingExecutor.completed = []
    answers = [fast.execute_sync(_PROBE_QUERY) for _ in range(2)]
    if expected.errors or any(answer.errors for answer in answers):
        problems.append(f"the probe query fails: {expected.errors or [a.errors for a in answers]}")
        return
    if any(answer.data != expected.data for answer in answers):
        problems.append(f"the direct path answers {answers[0].data}, Strawberry's {expected.data}")
    if _CountingExecutor.completed.count("ProbeTile") != 4:
        problems.append(
            "the direct path no longer completes plain objects (Strawberry's marks of plain fields changed:"
            " the resolver's _is_default, the definition back-reference or the field's default_resolver)"
        )
    if len(cache_) != 1:
        problems.append("the document cache kept no document (Strawberry's parse step changed)")
    graphql_schema = fast._schema
    date_type = graphql_schema.get_type("Date")
    shade_type = graphql_schema.get_type("ProbeShade")
    if not isinstance(date_type, GraphQLScalarType) or not _exact_coercions(date_type):
        problems.append("Strawberry's Date scalar no longer serializes with base_scalars.isoformat")
    if (
        not isinstance(shade_type, GraphQLEnumType)
        or not isinstance(shade_type, CustomGraphQLEnumType)
        or not _exact_coercions(shade_type)
    ):
        problems.append("Strawberry's enums are no longer CustomGraphQLEnumType with wrapped_cls")


@cache
def incompatibilities() -> tuple[str, ...]:
    """Every difference found between the installed libraries and what the speed layer reads (none:
    the speed layer may run).  Checked once per process: the installed libraries do not change."""
    problems: list[str] = []
    for check in (_graphql_core_shapes, _strawberry_shapes, _behaviour):
        try:
            check(problems)
        except Exception as error:  # a shape so different that looking at it fails
            problems.append(f"{check.__name__}: {type(error).__name__}: {error}")
    return tuple(problems)

"""Completing plain objects without graphql-core's per-field machinery.

graphql-core completes every field of every object in the same general way: it builds a
``GraphQLResolveInfo``, calls the resolver, checks whether the result is awaitable and completes it by
type.  That costs several microseconds per field (``strawberry-notes.md`` §A1) and is most of the time
of a page of 50 contacts with 14 fields each.  Yet most of those fields are *plain*: Strawberry fields
with no resolver, no field extensions, no arguments and no directives, whose value is an attribute of
the object.  For an object whose selected fields are all plain, the response is fully determined by
``getattr`` and what graphql-core would do with the values: ``coerce_output_value`` for scalars and
enums, and the same again for the fields of nested objects (an ``edges`` list, each edge's ``node``).
:class:`PlainObjectExecutor` computes that directly.

A nested value is completed directly only when its runtime type is unambiguous: its exact class is
the origin of one non-generic Strawberry object type, without a custom ``is_type_of`` and without a
``strawberry.cast``, and that type is the field's type or, for an interface without a custom
``resolve_type``, one of its implementations (what Strawberry's own resolution answers then).

Anything the direct path cannot complete exactly (a null for a non-null field, a value the type
refuses, an exception from an attribute, an awaitable, another kind of iterable) is handed back to
graphql-core for the whole object, which then completes it and reports errors with the paths and
messages it always would; plain reads have no side effects, so reading an attribute twice is
harmless.  Objects with any other field (a resolver, arguments), deferred fragments, streamed lists
and schemas with field middleware always take graphql-core's path.  ``tests/schema/test_execution.py``
checks that both paths give identical results.
"""

from __future__ import annotations

from collections.abc import Callable
from types import GeneratorType
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

__all__ = ["PlainObjectExecutor"]

_TYPENAME = "__typename"
_CONDITIONAL = frozenset({"skip", "include"})  # applied when fields are collected


class _Nested(NamedTuple):
    """How to complete a plain field whose value is not a single scalar or enum."""

    is_list: bool
    item_non_null: bool
    item_coerce: Callable[[Any], Any] | None
    """For a list of scalars or enums."""
    item_type: GraphQLObjectType | GraphQLInterfaceType | None
    """For objects, or lists of them."""
    field_details_list: Any
    """The field's collected nodes: the key of its sub-selection."""


class _PlainField(NamedTuple):
    response_name: str
    attribute: str | None
    """The Python attribute to read; None for ``__typename``."""
    coerce: Callable[[Any], Any] | None
    """For a scalar or enum field; None when ``nested`` completes the value."""
    non_null: bool
    nested: _Nested | None


_Plan = tuple[_PlainField, ...]
_FAILED = object()


def _unwrap_non_null(field_type: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(field_type, GraphQLNonNull):
        return field_type.of_type, True
    return field_type, False


def _leaf_coerce(named: GraphQLOutputType) -> Callable[[Any], Any] | None:
    return named.coerce_output_value if isinstance(named, GraphQLScalarType | GraphQLEnumType) else None


def _composite(named: GraphQLOutputType) -> GraphQLObjectType | GraphQLInterfaceType | None:
    if isinstance(named, GraphQLObjectType):
        return named
    if isinstance(named, GraphQLInterfaceType):
        definition = named.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if getattr(definition, "resolve_type", None) is None:
            return named
    return None


def _plain_field(
    field: GraphQLField | None, response_name: str, field_details_list: Any
) -> _PlainField | None:
    node = field_details_list[0].node
    if field is None or field.args or node.arguments:
        return None
    if any(directive.name.value not in _CONDITIONAL for directive in node.directives or ()):
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # Strawberry marks the resolver of a field without resolver, extensions or exception handlers.
    if not isinstance(definition, StrawberryField) or not getattr(field.resolve, "_is_default", False):
        return None
    if definition.default_resolver is not getattr:
        return None
    named, non_null = _unwrap_non_null(field.type)
    coerce = _leaf_coerce(named)
    if coerce is not None:
        return _PlainField(response_name, definition.python_name, coerce, non_null, None)
    is_list = isinstance(named, GraphQLList)
    item, item_non_null = named, False
    if isinstance(named, GraphQLList):
        item, item_non_null = _unwrap_non_null(named.of_type)
    item_coerce = _leaf_coerce(item) if is_list else None
    item_type = _composite(item) if item_coerce is None else None
    if item_coerce is None and item_type is None:
        return None
    nested = _Nested(is_list, item_non_null, item_coerce, item_type, field_details_list)
    return _PlainField(response_name, definition.python_name, None, non_null, nested)


_TYPES_BY_CLASS: WeakKeyDictionary[GraphQLSchema, dict[type, GraphQLObjectType]] = WeakKeyDictionary()


def _types_by_class(schema: GraphQLSchema) -> dict[type, GraphQLObjectType]:
    """Python class -> the object type it unambiguously is (see the module doc), once per schema."""
    found = _TYPES_BY_CLASS.get(schema)
    if found is None:
        found = {}
        ambiguous: set[type] = set()
        for graphql_type in schema.type_map.values():
            if not isinstance(graphql_type, GraphQLObjectType):
                continue
            definition = graphql_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                not isinstance(definition, StrawberryObjectDefinition)
                or definition.is_type_of is not None
                or definition.concrete_of is not None
                or definition.is_graphql_generic
            ):
                continue
            origin = definition.origin
            if origin in found:
                ambiguous.add(origin)
            found[origin] = graphql_type
        for origin in ambiguous:
            del found[origin]
        _TYPES_BY_CLASS[schema] = found
    return found


class PlainObjectExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing objects whose selected fields are all plain directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # Strawberry always passes a manager; it holds middleware only for extensions with resolve().
        self._without_middleware = manager is None or not manager.middlewares
        # id(grouped field set) -> (the set itself, kept alive so its id stays unique; its plan or None)
        self._plans: dict[int, tuple[Any, _Plan | None]] = {}
        self._types_by_class = _types_by_class(self.schema)
        self._not_awaitable: set[type] = set()

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if position_context is None and self._without_middleware:
            plan = self._plan(parent_type, grouped_field_set)
            if plan is not None:
                completed = self._complete(plan, source_value, parent_type.name)
                if completed is not None:
                    return completed
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    # -- plans ---------------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None:
            return cached[1]
        fields: list[_PlainField] = []
        plan: _Plan | None = None
        for response_name, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name == _TYPENAME:
                fields.append(_PlainField(response_name, None, None, True, None))
                continue
            plain = _plain_field(self.schema.get_field(parent_type, name), response_name, field_details_list)
            if plain is None:
                break
            fields.append(plain)
        else:
            plan = tuple(fields)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plan_of_nested(self, runtime_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        grouped_field_set, defer_usages, *_ = self.collect_subfields(runtime_type, field_details_list)
        if defer_usages:
            return None
        return self._plan(runtime_type, grouped_field_set)

    # -- completion ----------------------------------------------------------------------------

    def _complete(self, plan: _Plan, source: Any, type_name: str) -> dict[str, Any] | None:
        """The completed object, or None where graphql-core must complete it (see the module doc)."""
        result: dict[str, Any] = {}
        try:
            for response_name, attribute, coerce, non_null, nested in plan:
                if attribute is None:
                    result[response_name] = type_name
                    continue
                value = getattr(source, attribute)
                if value is None:
                    if non_null:
                        return None
                    result[response_name] = None
                    continue
                if coerce is not None:
                    completed = self._leaf(coerce, value)
                elif nested is not None:
                    completed = self._nested(nested, value)
                else:  # pragma: no cover - a plan field is a leaf, a nested value or __typename
                    return None
                if completed is _FAILED:
                    return None
                result[response_name] = completed
        except Exception:
            return None
        return result

    def _leaf(self, coerce: Callable[[Any], Any], value: Any) -> Any:
        kind = type(value)
        if kind not in self._not_awaitable:
            if self.is_awaitable(value):
                return _FAILED
            if kind is not GeneratorType:  # a generator's awaitability depends on its code's flags
                self._not_awaitable.add(kind)
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            return _FAILED
        return coerced

    def _nested(self, nested: _Nested, value: Any) -> Any:
        if not nested.is_list:
            return self._item(nested, value)
        if type(value) is not list and type(value) is not tuple:
            return _FAILED
        completed: list[Any] = []
        for item in value:
            if item is None:
                if nested.item_non_null:
                    return _FAILED
                completed.append(None)
                continue
            done = self._item(nested, item)
            if done is _FAILED:
                return _FAILED
            completed.append(done)
        return completed

    def _item(self, nested: _Nested, item: Any) -> Any:
        if nested.item_coerce is not None:
            return self._leaf(nested.item_coerce, item)
        runtime_type = self._types_by_class.get(type(item))
        expected = nested.item_type
        if runtime_type is None or get_strawberry_type_cast(item) is not None:
            return _FAILED
        if runtime_type is not expected and not (
            isinstance(expected, GraphQLInterfaceType) and self.schema.is_sub_type(expected, runtime_type)
        ):
            return _FAILED
        plan = self._plan_of_nested(runtime_type, nested.field_details_list)
        if plan is None:
            return _FAILED
        completed = self._complete(plan, item, runtime_type.name)
        return _FAILED if completed is None else completed

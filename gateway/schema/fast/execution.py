"""Completing plain objects without graphql-core's per-field machinery.

graphql-core completes every field of every object in the same general way: it builds a
``GraphQLResolveInfo``, calls the resolver, checks whether the result is awaitable and completes it by
type, and for a page of contacts with a dozen fields each that is most of the time of a request
(BENCHMARKS.md, "Profile").  Yet most of those fields are *plain*: Strawberry fields
with no resolver, no field extensions, no arguments and no directives, whose value is an attribute of
the object.  For an object whose selected fields are all plain, the response is fully determined by
``getattr`` and what graphql-core would do with the values: ``coerce_output_value`` for scalars and
enums, and the same again for the fields of nested objects (an ``edges`` list, each edge's ``node``).
:class:`PlainObjectExecutor` computes that directly.

A nested value is completed directly only when its runtime type is unambiguous: its exact class is
the origin of one non-generic Strawberry object type, without a custom ``is_type_of`` and without a
``strawberry.cast``, and that type is the field's type or, for an interface without a custom
``resolve_type``, one of its implementations (what Strawberry's own resolution answers then).

What the direct path needs is learnt once per schema (``_SchemaFacts``): each field's facts; each
selection's *plan*, kept by the identities of its field nodes (the parse cache hands every request
of a text the same document); the item plans of nested selections whose collection reads no
variable (no directive anywhere under them); and, for each distinct selection, a completion
function generated for it (``_compile``).  Values of the types most leaf fields hold (``str`` for
String and ID, ``bool``, an enum's members, dates, ``None`` for a nullable field) complete without
calling ``coerce_output_value`` at all (``_exact_coercions``: the same answers, fewer calls).

Anything the direct path cannot complete exactly (a null for a non-null field, a value the type
refuses, an exception from an attribute, an awaitable, another kind of iterable) is handed back to
graphql-core for the whole object, which then completes it and reports errors with the paths and
messages it always would; plain reads have no side effects, so reading an attribute twice is
harmless.  Objects with any other field (a resolver, arguments), deferred fragments, streamed lists
and schemas with field middleware always take graphql-core's path.  ``tests/schema/test_execution.py``
checks that both paths give identical results, and ``compat.py`` that the graphql-core and Strawberry
internals read here still have the shape this module expects.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date, datetime
from types import GeneratorType
from typing import Any, Generic, NamedTuple, TypeVar
from weakref import WeakKeyDictionary

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.schema.types import base_scalars
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
    fixed: bool
    """Whether its sub-selection has no directives (nor fragment arguments) anywhere, so what it
    collects depends on the document alone, not on a request's variables."""


class _PlainField(NamedTuple):
    response_name: str
    attribute: str | None
    """The Python attribute to read; None for ``__typename``."""
    coerce: Callable[[Any], Any] | None
    """For a scalar or enum field; None when ``nested`` completes the value."""
    non_null: bool
    nested: _Nested | None
    exact: Mapping[type, Callable[[Any], Any] | None]
    """Value types whose completion is known without calling ``coerce`` (``_exact_coercions``), and
    ``NoneType`` when the field is nullable."""


_Step = tuple[str, str, Mapping[type, Callable[[Any], Any] | None]]
"""``(response name, attribute, exact)``: what a compiled completion is made of (``_compile``)."""
_SlowPath = Callable[[_PlainField, Any, str], Any]
_Completion = Callable[[Any, str, tuple[_PlainField, ...], _SlowPath], dict[str, Any] | None]


class _Plan(NamedTuple):
    """How to complete one selection of one object type: a function compiled for its steps, and the
    fields its slow path (a value of a type no ``exact`` knows) is given."""

    complete: _Completion
    fields: tuple[_PlainField, ...]


_ItemPlan = tuple[GraphQLObjectType | None, _Plan | None]
"""The object type items of one class complete as in one nested field, and its plan (None, None:
they go to graphql-core)."""

_TYPENAME_ATTRIBUTE = "__class__"
"""What ``__typename`` reads: an attribute every object has, whose type no ``exact`` knows."""
_FAILED = object()


def _unwrap_non_null(field_type: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(field_type, GraphQLNonNull):
        return field_type.of_type, True
    return field_type, False


def _leaf_coerce(named: GraphQLOutputType) -> Callable[[Any], Any] | None:
    return named.coerce_output_value if isinstance(named, GraphQLScalarType | GraphQLEnumType) else None


_UNCHANGED: dict[GraphQLOutputType, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
"""Scalars whose ``coerce_output_value`` returns a value of this exact type unchanged."""
_NO_EXACT: Mapping[type, Callable[[Any], Any] | None] = {}


def _exact_coercions(named: GraphQLOutputType) -> Mapping[type, Callable[[Any], Any] | None]:
    """What ``named.coerce_output_value`` does to values of these exact types, without calling it
    (None: the value is returned unchanged).  Most leaf values of a page are strings, booleans,
    enum members and dates, and the general coercion costs a few calls each."""
    if named in _UNCHANGED:
        return {_UNCHANGED[named]: None}
    if isinstance(named, CustomGraphQLEnumType):
        # Strawberry's serializer answers the first name whose value equals the member's value.
        names: dict[Any, str] = {}
        member: Any
        for member in named.wrapped_cls:
            for name, enum_value in named.values.items():
                if member.value == enum_value.value:
                    names[member] = name
                    break
        return {named.wrapped_cls: names.__getitem__} if len(names) == len(named.wrapped_cls) else _NO_EXACT
    if isinstance(named, GraphQLScalarType) and named.serialize is base_scalars.isoformat:
        return {date: date.isoformat, datetime: datetime.isoformat}
    return _NO_EXACT


def _with_null(
    exact: Mapping[type, Callable[[Any], Any] | None], non_null: bool
) -> Mapping[type, Callable[[Any], Any] | None]:
    """``exact``, and a nullable field's null completed as null."""
    return exact if non_null else {**exact, type(None): None}


def _composite(named: GraphQLOutputType) -> GraphQLObjectType | GraphQLInterfaceType | None:
    if isinstance(named, GraphQLObjectType):
        return named
    if isinstance(named, GraphQLInterfaceType):
        definition = named.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if getattr(definition, "resolve_type", None) is None:
            return named
    return None


def _compile(steps: Sequence[_Step]) -> _Completion:
    """A function completing an object with these steps, as reading and completing each in turn would.

    Each step reads its attribute and tests the value's exact type against the types its ``exact``
    knows (``is`` tests instead of a mapping lookup); any other value goes to the slow path, and a
    failure there or an exception anywhere answers None, so graphql-core completes the object.  The
    code is generated once per distinct selection (graphql-jit does the same for whole queries): a
    general loop over the steps spent most of a field's time unpacking them and looking up types.
    """
    namespace: dict[str, Any] = {"FAILED": _FAILED}
    body: list[str] = []
    for i, (_, attribute, exact) in enumerate(steps):
        if attribute.isidentifier() and not keyword.iskeyword(attribute):
            body.append(f"v{i} = source.{attribute}")
        else:  # pragma: no cover - Strawberry's python names are identifiers
            namespace[f"a{i}"] = attribute
            body.append(f"v{i} = getattr(source, a{i})")
        tests: list[tuple[str, str]] = []
        unchanged = [kind for kind, convert in exact.items() if convert is None]
        for j, kind in enumerate(unchanged):
            namespace[f"u{i}_{j}"] = kind
        if unchanged:
            tests.append((" or ".join(f"t is u{i}_{j}" for j in range(len(unchanged))), "pass"))
        converted = [(kind, convert) for kind, convert in exact.items() if convert is not None]
        for j, (kind, convert) in enumerate(converted):
            namespace[f"k{i}_{j}"], namespace[f"c{i}_{j}"] = kind, convert
            tests.append((f"t is k{i}_{j}", f"v{i} = c{i}_{j}(v{i})"))
        slow = [f"v{i} = slow(fields[{i}], v{i}, type_name)", f"if v{i} is FAILED:", "    return None"]
        if tests:
            body.append(f"t = type(v{i})")
            for n, (condition, action) in enumerate(tests):
                body += [f"{'elif' if n else 'if'} {condition}:", f"    {action}"]
            body += ["else:", *(f"    {line}" for line in slow)]
        else:
            body += slow
    items = ", ".join(f"{response_name!r}: v{i}" for i, (response_name, _, _) in enumerate(steps))
    body.append(f"return {{{items}}}")
    lines = [
        "def complete(source, type_name, fields, slow):",
        "    try:",
        *(f"        {line}" for line in body),
        "    except Exception:",
        "        return None",
    ]
    exec(compile("\n".join(lines), "<plain object completion>", "exec"), namespace)
    completion: _Completion = namespace["complete"]
    return completion


class _FieldFacts(NamedTuple):
    """What completing a plain field takes, known from the schema alone (kept per schema)."""

    attribute: str
    coerce: Callable[[Any], Any] | None
    non_null: bool
    exact: Mapping[type, Callable[[Any], Any] | None]
    is_list: bool
    item_non_null: bool
    item_coerce: Callable[[Any], Any] | None
    item_type: GraphQLObjectType | GraphQLInterfaceType | None


def _field_facts(field: GraphQLField) -> _FieldFacts | None:
    """None unless ``field`` is plain: no arguments, no resolver and a type the direct path completes."""
    if field.args:
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # Strawberry marks the resolver of a field without a resolver of its own as default, even when
    # field extensions (a permission check) wrap it: those must run, so such a field is not plain.
    if not isinstance(definition, StrawberryField) or not getattr(field.resolve, "_is_default", False):
        return None
    if definition.extensions:
        return None
    if definition.default_resolver is not getattr:
        return None
    named, non_null = _unwrap_non_null(field.type)
    coerce = _leaf_coerce(named)
    if coerce is not None:
        exact = _with_null(_exact_coercions(named), non_null)
        return _FieldFacts(definition.python_name, coerce, non_null, exact, False, False, None, None)
    is_list = isinstance(named, GraphQLList)
    item, item_non_null = named, False
    if isinstance(named, GraphQLList):
        item, item_non_null = _unwrap_non_null(named.of_type)
    item_coerce = _leaf_coerce(item) if is_list else None
    item_type = _composite(item) if item_coerce is None else None
    if item_coerce is None and item_type is None:
        return None
    exact = _with_null(_NO_EXACT, non_null)
    return _FieldFacts(
        definition.python_name, None, non_null, exact, is_list, item_non_null, item_coerce, item_type
    )


V = TypeVar("V")


class _KeptById(Generic[V]):
    """Values made once per key, where keys are made of object ids: each entry keeps those objects
    alive, so no id is taken by another object while its value is kept.  At most ``limit`` entries
    (the oldest made goes first), or any number with ``None``."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._entries: dict[Hashable, tuple[V, Any]] = {}

    def get(self, key: Hashable, make: Callable[[], V], keep: Any) -> V:
        found = self._entries.get(key)
        if found is None:
            if self.limit is not None and len(self._entries) >= self.limit:
                del self._entries[next(iter(self._entries))]
            found = self._entries[key] = (make(), keep)
        return found[0]


class _OperationPlans:
    """The plans of one operation's selections (``MAX_KEPT`` of each kind at most)."""

    MAX_KEPT = 1024

    def __init__(self) -> None:
        self.plans: _KeptById[_Plan | None] = _KeptById(self.MAX_KEPT)
        self.item_plans: _KeptById[_ItemPlan] = _KeptById(self.MAX_KEPT)


class _SchemaFacts:
    """What the direct path learns once per schema: classes' object types, fields' facts, the
    compiled completions of the selections it has seen (``MAX_KEPT``), and their plans.

    A plan keeps its field nodes alive, and through their locations the whole document and its query
    text; so plans are kept per operation node, weakly: they go when the document cache lets the
    document go, instead of holding a thousand documents the caches have already dropped.
    """

    MAX_KEPT = 1024

    def __init__(self, schema: GraphQLSchema) -> None:
        self.types_by_class = _types_by_class(schema)
        self._fields: _KeptById[_FieldFacts | None] = _KeptById(None)  # as many as the schema has
        self._operations: WeakKeyDictionary[OperationDefinitionNode, _OperationPlans] = WeakKeyDictionary()
        self._completions: _KeptById[_Completion] = _KeptById(self.MAX_KEPT)

    def field(self, field: GraphQLField) -> _FieldFacts | None:
        return self._fields.get(id(field), lambda: _field_facts(field), field)

    def _of(self, operation: OperationDefinitionNode) -> _OperationPlans:
        found = self._operations.get(operation)
        if found is None:
            found = self._operations[operation] = _OperationPlans()
        return found

    def plan(
        self,
        operation: OperationDefinitionNode,
        key: tuple[Any, ...],
        make: Callable[[], _Plan | None],
        keep: Any,
    ) -> _Plan | None:
        """The plan for ``key``, a selection's field nodes by id (``keep`` holds them)."""
        return self._of(operation).plans.get(key, make, keep)

    def item_plan(
        self, operation: OperationDefinitionNode, nested: _Nested, kind: type, make: Callable[[], _ItemPlan]
    ) -> _ItemPlan:
        """The item plan of ``nested`` for items of class ``kind`` (kept for ``nested.fixed`` ones)."""
        return self._of(operation).item_plans.get((id(nested), kind), make, nested)

    def operations_held(self) -> int:
        """How many operations have plans kept (for tests and memory reports)."""
        return len(self._operations)

    def completion(self, steps: Sequence[_Step]) -> _Completion:
        """The compiled completion of ``steps`` (keyed by the ids of their ``exact`` mappings)."""
        key = tuple((response_name, attribute, id(exact)) for response_name, attribute, exact in steps)
        return self._completions.get(key, lambda: _compile(steps), [exact for *_, exact in steps])


_FACTS: WeakKeyDictionary[GraphQLSchema, _SchemaFacts] = WeakKeyDictionary()


def _schema_facts(schema: GraphQLSchema) -> _SchemaFacts:
    found = _FACTS.get(schema)
    if found is None:
        found = _FACTS[schema] = _SchemaFacts(schema)
    return found


def _plain_field(
    facts: _SchemaFacts,
    field: GraphQLField | None,
    response_name: str,
    field_details_list: Any,
    fragments: Mapping[str, Any],
) -> _PlainField | None:
    node = field_details_list[0].node
    if field is None or node.arguments:
        return None
    if any(directive.name.value not in _CONDITIONAL for directive in node.directives or ()):
        return None
    known = facts.field(field)
    if known is None:
        return None
    if known.coerce is not None:
        return _PlainField(response_name, known.attribute, known.coerce, known.non_null, None, known.exact)
    fixed = _without_directives([details.node.selection_set for details in field_details_list], fragments)
    nested = _Nested(
        known.is_list, known.item_non_null, known.item_coerce, known.item_type, field_details_list, fixed
    )
    return _PlainField(response_name, known.attribute, None, known.non_null, nested, known.exact)


def _without_directives(selection_sets: list[SelectionSetNode | None], fragments: Mapping[str, Any]) -> bool:
    """Whether no selection under ``selection_sets`` (fragments followed) has a directive or is a
    fragment spread with arguments: collecting them then reads no variable."""
    pending = [selection_set for selection_set in selection_sets if selection_set is not None]
    spread: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if selection.directives:
                return False
            if isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    return False
                name = selection.name.value
                if name in spread:
                    continue
                spread.add(name)
                fragment = fragments.get(name)
                if fragment is None or fragment.definition.directives:
                    return False
                pending.append(fragment.definition.selection_set)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return True


def _types_by_class(schema: GraphQLSchema) -> dict[type, GraphQLObjectType]:
    """Python class -> the object type it unambiguously is (see the module doc)."""
    found: dict[type, GraphQLObjectType] = {}
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
        self._facts = _schema_facts(self.schema)
        self._types_by_class = self._facts.types_by_class
        self._not_awaitable: set[type] = set()
        # (id of a nested field's _Nested, class of an item) -> (its object type, its plan); see _item
        self._item_plans: dict[tuple[int, type], _ItemPlan] = {}

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
        # The same selection of the same type (the same field nodes of a cached document) has the
        # same plan in every request: it is kept per schema, keyed by the nodes' identities (the
        # grouped field set it is first made of holds those nodes, so it is what the entry keeps).
        key = (
            parent_type.name,
            *(
                (response_name, *(id(details.node) for details in field_details_list))
                for response_name, field_details_list in grouped_field_set.items()
            ),
        )
        plan = self._facts.plan(
            self.operation, key, lambda: self._new_plan(parent_type, grouped_field_set), grouped_field_set
        )
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _new_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan | None:
        fields: list[_PlainField] = []
        for response_name, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name == _TYPENAME:
                fields.append(_PlainField(response_name, None, None, True, None, _NO_EXACT))
                continue
            field = self.schema.get_field(parent_type, name)
            plain = _plain_field(self._facts, field, response_name, field_details_list, self.fragments)
            if plain is None:
                return None
            fields.append(plain)
        steps = [(f.response_name, f.attribute or _TYPENAME_ATTRIBUTE, f.exact) for f in fields]
        return _Plan(self._facts.completion(steps), tuple(fields))

    def _plan_of_nested(self, runtime_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        grouped_field_set, defer_usages, *_ = self.collect_subfields(runtime_type, field_details_list)
        if defer_usages:
            return None
        return self._plan(runtime_type, grouped_field_set)

    # -- completion ----------------------------------------------------------------------------

    def _complete(self, plan: _Plan, source: Any, type_name: str) -> dict[str, Any] | None:
        """The completed object, or None where graphql-core must complete it (see the module doc)."""
        return plan.complete(source, type_name, plan.fields, self._complete_field)

    def _complete_field(self, field: _PlainField, value: Any, type_name: str) -> Any:
        """A field whose value is of a type its ``exact`` does not know."""
        if field.attribute is None:
            return type_name
        if value is None:  # for a non-null field (a nullable one's null is exact)
            return _FAILED
        if field.coerce is not None:
            return self._leaf(field.coerce, value)
        nested = field.nested
        if nested is not None:
            return self._nested(nested, value) if nested.is_list else self._item(nested, value)
        return _FAILED  # pragma: no cover - a plan field is a leaf, a nested value or __typename

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
        """A list's items completed (``nested.is_list``)."""
        if type(value) is not list and type(value) is not tuple:
            return _FAILED
        complete_item = self._item
        completed: list[Any] = []
        for item in value:
            if item is None:
                if nested.item_non_null:
                    return _FAILED
                completed.append(None)
                continue
            done = complete_item(nested, item)
            if done is _FAILED:
                return _FAILED
            completed.append(done)
        return completed

    def _item(self, nested: _Nested, item: Any) -> Any:
        if nested.item_coerce is not None:
            return self._leaf(nested.item_coerce, item)
        # The same field's items are mostly of one or two classes: their checks and plans are kept.
        key = (id(nested), type(item))  # ``nested`` lives as long as the plan holding it (``_plans``)
        found = self._item_plans.get(key)
        if found is None:
            kind = type(item)
            if nested.fixed:  # the same in every request: kept per schema
                found = self._facts.item_plan(
                    self.operation, nested, kind, lambda: self._item_plan(nested, kind)
                )
            else:
                found = self._item_plan(nested, kind)
            self._item_plans[key] = found
        runtime_type, plan = found
        if runtime_type is None or plan is None or get_strawberry_type_cast(item) is not None:
            return _FAILED
        completed = self._complete(plan, item, runtime_type.name)
        return _FAILED if completed is None else completed

    def _item_plan(self, nested: _Nested, kind: type) -> _ItemPlan:
        """The object type items of class ``kind`` complete as in this field, and its plan."""
        runtime_type = self._types_by_class.get(kind)
        expected = nested.item_type
        if runtime_type is None:
            return None, None
        if runtime_type is not expected and not (
            isinstance(expected, GraphQLInterfaceType) and self.schema.is_sub_type(expected, runtime_type)
        ):
            return None, None
        return runtime_type, self._plan_of_nested(runtime_type, nested.field_details_list)

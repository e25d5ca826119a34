"""The shape limits of a query, measured without recursion: field depth, aliases, fragment chains.

Strawberry's depth and alias limiters walk a document recursively and expand every fragment spread
where it is used.  A chain of a few hundred spreads (``query { ...F0 } fragment F0 on Query { ...F1 }
...``) therefore exhausts Python's stack (a ``RecursionError``, which escaped as an internal error),
and fragments that spread the next one twice (``fragment F0 on Query { ...F1 ...F1 }``) cost time
exponential in their number.  This rule measures the same quantities with an explicit stack, once per
fragment: each fragment's shape is computed after the shapes of the fragments it spreads (a spread
that closes a cycle counts as empty; the specification's own rule reports the cycle), and a spread
adds the stored shape instead of walking the fragment again.  The work is linear in the size of the
document, and the stack depth constant.

Measured as Strawberry measures them, so the limits mean what they meant:

- depth: fields with a selection set nested in one another (fragments and inline fragments add
  nothing; introspection fields, ``__schema`` and ``__type``, are not counted, nor is what is under
  them);
- aliases: aliased fields in the whole document with every spread expanded;
- fragment chain (new): the longest run of spreads, one inside another, from an operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VisitorAction,
)
from graphql.language import SKIP

__all__ = ["QueryShape", "measure_document", "query_shape_rule"]


@dataclass(frozen=True, slots=True)
class QueryShape:
    depth: int = 0
    """Fields with a selection set nested in one another."""
    aliases: int = 0
    """Aliased fields, with every fragment spread expanded."""
    fragment_chain: int = 0
    """Fragment spreads nested in one another."""


_EMPTY = QueryShape()


def _spread_names(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return names


def _measure(selection_set: SelectionSetNode, fragments: Mapping[str, QueryShape]) -> QueryShape:
    """The shape of one selection set; a spread contributes the stored shape of its fragment."""
    depth = aliases = chain = 0
    # (selection set, fields above it, spreads above it, whether depth counts below here)
    pending: list[tuple[SelectionSetNode, int, int, bool]] = [(selection_set, 0, 0, True)]
    while pending:
        current, above, spreads, counted = pending.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is None:
                    continue
                below = counted and not selection.name.value.startswith("__")
                if below:
                    depth = max(depth, above + 1)
                pending.append((selection.selection_set, above + 1, spreads, below))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, above, spreads, counted))
            elif isinstance(selection, FragmentSpreadNode):
                shape = fragments.get(selection.name.value, _EMPTY)
                aliases += shape.aliases
                chain = max(chain, spreads + 1 + shape.fragment_chain)
                if counted:
                    depth = max(depth, above + shape.depth)
    return QueryShape(depth, aliases, chain)


def _fragment_shapes(definitions: Mapping[str, FragmentDefinitionNode]) -> dict[str, QueryShape]:
    """Every fragment's shape, each measured after the fragments it spreads (depth-first, iterative)."""
    spreads = {name: _spread_names(fragment.selection_set) for name, fragment in definitions.items()}
    shapes: dict[str, QueryShape] = {}
    for root in definitions:
        if root in shapes:
            continue
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, remaining = path[-1]
            for spread in remaining:
                if spread in definitions and spread not in shapes and spread not in on_path:
                    path.append((spread, iter(spreads[spread])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                shapes[name] = _measure(definitions[name].selection_set, shapes)
    return shapes


def measure_document(document: DocumentNode) -> dict[str, QueryShape]:
    """The shape of each operation of ``document``, by name (``"anonymous"`` for one without)."""
    definitions: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            definitions.setdefault(definition.name.value, definition)  # duplicates: another rule's
    shapes = _fragment_shapes(definitions)
    return {
        operation.name.value if operation.name else "anonymous": _measure(operation.selection_set, shapes)
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
    }


def query_shape_rule(*, max_depth: int, max_aliases: int, max_fragment_chain: int) -> type[ASTValidationRule]:
    """A validation rule class enforcing the three limits (one class per set of limits: validation
    caches compare rule classes, so build it once and reuse it)."""

    class QueryShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_document(self, node: DocumentNode, *_args: Any) -> VisitorAction:
            operations = {
                (operation.name.value if operation.name else "anonymous"): operation
                for operation in node.definitions
                if isinstance(operation, OperationDefinitionNode)
            }
            shapes = measure_document(node)
            for name, shape in shapes.items():
                where = [operations[name]]
                if shape.fragment_chain > max_fragment_chain:
                    self.report_error(
                        GraphQLError(
                            f"'{name}' nests {shape.fragment_chain} fragment spreads in one another; "
                            f"at most {max_fragment_chain} are allowed",
                            where,
                        )
                    )
                if shape.depth > max_depth:
                    self.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", where)
                    )
            aliases = sum(shape.aliases for shape in shapes.values())
            if aliases > max_aliases:
                self.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))
            return SKIP

    return QueryShapeRule

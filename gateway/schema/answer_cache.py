"""Which GraphQL answers may be reused, and the extension that reuses them (``ANSWER_CACHE``).

``gateway.core.answer_cache`` keeps answers under the index's version; this module decides, per
request, whether an answer can be one of them:

- the operation is a query whose root fields all read the index only (:data:`INDEX_ROOT_FIELDS`;
  ``__typename`` too);
- no field anywhere in the document changes with the clock or reads a provider
  (:data:`VOLATILE_FIELDS`);
- the answer has no error, and no resolver took the providers' path (a first page asked with
  ``consistency: LIVE``, a later page of a live snapshot: ``GatewayContext.answered_live``).

:class:`AnswerCacheExtension` runs after the cost limit: a reused answer is charged to the caller's
budget and reports its cost like any other; then it answers from the cache or lets the query run and
keeps what it answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.core.answer_cache import answer_key
from gateway.errors import GatewayError

from .context import GatewayContext

__all__ = ["INDEX_ROOT_FIELDS", "VOLATILE_FIELDS", "AnswerCacheExtension", "reusable_operation"]

INDEX_ROOT_FIELDS = frozenset(
    {"deletedContacts", "deletedContact", "node", "nodes", "deletedContactsByEmail", "__typename"}
)
"""Root fields answered from the index alone once every configured provider's index is built."""

VOLATILE_FIELDS = frozenset({"ageSeconds", "lagSeconds", "campaign", "message"})
"""Fields whose value is not the index's: ages count from now; a GetResponse contact's ``campaign``
and ``message`` are read from GetResponse's catalog."""


def _field_names(selection_set: SelectionSetNode | None, into: set[str]) -> set[str]:
    if selection_set is not None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                into.add(selection.name.value)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                _field_names(selection.selection_set, into)
    return into


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> set[str]:
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                seen.add(name)
                names |= _root_fields(fragment.selection_set, fragments, seen)
    return names


def reusable_operation(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """Whether ``operation``'s answer depends on the index alone (before its resolvers say how they
    answered).  Conservative: a volatile field anywhere in the document counts, used or not."""
    if operation.operation is not OperationType.QUERY:
        return False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if not _root_fields(operation.selection_set, fragments, set()) <= INDEX_ROOT_FIELDS:
        return False
    names: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            _field_names(definition.selection_set, names)
    return names.isdisjoint(VOLATILE_FIELDS)


class AnswerCacheExtension(SchemaExtension):
    """Answers a reusable query from ``Services.answers`` when the index is unchanged, and keeps the
    answer of one that ran."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        gateway = execution.context if isinstance(execution.context, GatewayContext) else None
        answers = gateway.services.answers if gateway is not None else None
        document = execution.graphql_document
        if (
            gateway is None
            or answers is None
            or execution.result is not None  # refused before it ran (cost, budget)
            or document is None
            or execution.query is None
        ):
            yield
            return
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None or not reusable_operation(document, operation):
            yield
            return
        try:
            version = await answers.version()
        except GatewayError:  # the store is unreachable: the query runs and reports it where it reads
            version = None
        if version is None:
            yield
            return
        scopes = gateway.principal.scopes
        try:
            key = answer_key(execution.query, execution.operation_name, execution.variables, scopes)
        except (TypeError, ValueError):  # variables orjson cannot encode: the query runs and judges them
            yield
            return
        data = answers.get(key, version)
        if data is not None:
            gateway.answer_reused = True
            execution.result = ExecutionResult(data=data)
            yield
            return
        yield
        result = execution.result
        if (
            isinstance(result, ExecutionResult)
            and result.data is not None
            and not result.errors
            and not gateway.partial_errors
            and not gateway.answered_live
        ):
            answers.put(key, version, result.data)

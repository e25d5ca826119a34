"""The Strawberry schema, assembled once per process with its limits, caches and error handling."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError
from graphql import execute as graphql_execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe
from strawberry.utils.operation import get_operation_type

from .documents import DocumentValidationCache, ValidatedDocuments
from .errors import shape_errors
from .execution import PlainObjectExecutor
from .mutations import Mutation
from .queries import Query
from .query_shape import query_shape_rule
from .types import ConstantContactDeletedContact, GetResponseDeletedContact

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FRAGMENT_CHAIN",
    "MAX_TOKENS",
    "GatewaySchema",
    "QueryLimits",
    "build_schema",
    "get_schema",
]

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_FRAGMENT_CHAIN = 32


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, with errors shaped for the gateway, and a direct path for known texts.

    A query text that parsed and validated without errors before (``documents``) is executed
    straight through graphql-core with the same arguments Strawberry passes it, and its result
    converted the way Strawberry converts it.  Parsing and validation would give the same document
    and no errors again, and none of the schema's extensions does anything else, so what is skipped
    is only Strawberry's per-request extension machinery, which runs on every request before its
    resolvers start.  Anything else
    (a new text, an operation the document cannot name, one not allowed here, schema directives or
    incremental delivery, which need Strawberry's own handling) takes Strawberry's path.
    """

    def __init__(self, *args: Any, documents: ValidatedDocuments | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        direct = not self.directives and not self.config.enable_experimental_incremental_execution
        self.documents = documents if direct else None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        document = self._known_document(query, operation_name, allowed_operation_types)
        if document is not None:
            result = await self._execute_known(
                document, variable_values, context_value, root_value, operation_name, operation_extensions
            )
        else:
            result = await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        if result.errors or getattr(context_value, "partial_errors", None):
            result.errors = shape_errors(result.errors or [], context_value)
        return result

    def _known_document(
        self,
        query: str | None,
        operation_name: str | None,
        allowed_operation_types: Iterable[OperationType] | None,
    ) -> DocumentNode | None:
        if self.documents is None or query is None:
            return None
        document = self.documents.valid_document(query)
        if document is None:
            return None
        try:
            operation_type = get_operation_type(document, operation_name)
        except RuntimeError:
            return None  # Strawberry's path reports it
        allowed = allowed_operation_types
        if allowed is None:
            allowed = DEFAULT_ALLOWED_OPERATION_TYPES
        return document if operation_type in allowed else None

    async def _execute_known(
        self,
        document: DocumentNode,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        """What ``Schema.execute`` does after a successful parse and validation (no extension of
        this schema adds middleware, results or anything else to execution)."""
        try:
            result = await await_maybe(
                graphql_execute(
                    self._schema,
                    document,
                    root_value=root_value,
                    variable_values=variable_values,
                    operation_name=operation_name,
                    context_value=context_value,
                    is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # as Strawberry passes it
                    executor_class=self.execution_context_class,
                    operation_extensions=operation_extensions,
                )
            )
        except Exception as exc:  # as Strawberry answers an exception escaping execution
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            self._process_errors([error])
            return PreExecutionError(data=None, errors=[error], extensions={})
        if result.errors:
            self._process_errors(result.errors)
        return ExecutionResult(data=result.data, errors=result.errors, extensions={})

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in ``GatewayErrors`` (with the request id, and without tracebacks for the
        expected errors), so the default log-everything-with-traceback is switched off here."""


# Built once: the validation cache compares the rule classes too.  One iterative rule measures depth,
# aliases and fragment chains (Strawberry's limiters recurse through fragments: RecursionError).
_LIMIT_RULES: list[type[ASTValidationRule]] = [
    query_shape_rule(max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES, max_fragment_chain=MAX_FRAGMENT_CHAIN),
]


class QueryLimits(AddValidationRules):
    """Depth, alias and fragment-chain limits, with the same rule class on every request."""

    def __init__(self) -> None:
        super().__init__(_LIMIT_RULES)


def build_schema(*, caches: bool = True) -> GatewaySchema:
    """The schema; ``caches=False`` leaves out the parse and validation caches (benchmarks compare)."""
    extensions: list[Any] = [QueryLimits, lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS)]
    documents = ValidatedDocuments() if caches else None
    if documents is not None:
        extensions += [ParserCache, lambda: DocumentValidationCache(documents)]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[ConstantContactDeletedContact, GetResponseDeletedContact],
        extensions=extensions,
        execution_context_class=PlainObjectExecutor,
        documents=documents,
    )


@cache
def get_schema() -> GatewaySchema:
    """The process-wide schema, built once.

    Strawberry cannot build a second schema from the same ``Query`` class when it has a ``relay.node()``
    field (the first build mutates the field object and the second fails an assertion), so every caller
    shares this one.
    """
    return build_schema()

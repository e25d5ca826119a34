"""The Strawberry schema, assembled once per process with its limits, caches and error handling."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.types import ExecutionContext, ExecutionResult

from .errors import shape_errors
from .execution import PlainObjectExecutor
from .mutations import Mutation
from .queries import Query
from .types import ConstantContactDeletedContact, GetResponseDeletedContact

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "GatewaySchema",
    "QueryLimits",
    "build_schema",
    "get_schema",
]

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000


class GatewaySchema(strawberry.Schema):
    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(query, *args, **kwargs)
        context = kwargs.get("context_value", args[1] if len(args) > 1 else None)
        if result.errors or getattr(context, "partial_errors", None):
            result.errors = shape_errors(result.errors or [], context)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in ``GatewayErrors`` (with the request id, and without tracebacks for the
        expected errors), so the default log-everything-with-traceback is switched off here."""


# Built once: ``ValidationCache`` keys its cache on the rule classes too, and Strawberry's
# QueryDepthLimiter / MaxAliasesLimiter create new classes per instance (so per request, with factories),
# which made every validation a cache miss.
_LIMIT_RULES: list[type[ASTValidationRule]] = [
    depth_limit_rule(MAX_DEPTH, None),
    alias_limit_rule(MAX_ALIASES),
]


class QueryLimits(AddValidationRules):
    """Depth and alias limits, with the same rule classes on every request."""

    def __init__(self) -> None:
        super().__init__(_LIMIT_RULES)


def build_schema(*, caches: bool = True) -> GatewaySchema:
    """The schema; ``caches=False`` leaves out the parse and validation caches (benchmarks compare)."""
    extensions: list[Any] = [QueryLimits, lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS)]
    if caches:
        extensions += [ParserCache, ValidationCache]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[ConstantContactDeletedContact, GetResponseDeletedContact],
        extensions=extensions,
        execution_context_class=PlainObjectExecutor,
    )


@cache
def get_schema() -> GatewaySchema:
    """The process-wide schema (Strawberry schemas are built once; see strawberry-notes.md gotcha 3)."""
    return build_schema()

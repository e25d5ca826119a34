"""The Strawberry schema, assembled once per process with its limits, caches and error handling."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext, ExecutionResult

from .errors import shape_errors
from .mutations import Mutation
from .queries import Query
from .types import ConstantContactDeletedContact, GetResponseDeletedContact

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "GatewaySchema", "build_schema", "get_schema"]

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


def build_schema() -> GatewaySchema:
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ParserCache,
        ValidationCache,
    ]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[ConstantContactDeletedContact, GetResponseDeletedContact],
        extensions=extensions,
    )


@cache
def get_schema() -> GatewaySchema:
    """The process-wide schema (Strawberry schemas are built once; see strawberry-notes.md gotcha 3)."""
    return build_schema()

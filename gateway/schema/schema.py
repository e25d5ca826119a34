"""The Strawberry schema of one application instance: its limits from ``Settings``, its error shaping,
and the speed layer (``fast/``) or Strawberry's own execution, as ``Settings.speed_layer`` says."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.config import Settings
from gateway.core.costs import QueryCosts

from .answer_cache import AnswerCacheExtension
from .cost import CostLimit
from .errors import shape_errors, without_suggestions
from .fast import speed_layer
from .mutations import Mutation
from .queries import Query
from .query_shape import query_shape_rule
from .subscriptions import SCALARS, Subscription
from .types import ConstantContactDeletedContact, GetResponseDeletedContact
from .webhooks import WebhookMutations, WebhookQueries

__all__ = ["GatewaySchema", "build_schema", "validation_rules"]


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, with errors shaped for the gateway.

    Every request takes Strawberry's ``execute``, so every extension of the schema runs on every
    request (there is no shortcut for texts seen before: the speed layer caches their parsing and
    validation inside the extension lifecycle instead).
    """

    suggestions: bool = True
    """False: "Did you mean ...?" is cut from validation errors (with introspection off, the
    suggestions would reveal the schema field by field)."""

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
        # A subscription has no single answer: it is served by ``stream`` (graphql-transport-ws, SSE),
        # so here it is refused as not allowed (InvalidOperationTypeError) rather than run to a null.
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        allowed.discard(OperationType.SUBSCRIPTION)
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )
        if result.errors or getattr(context_value, "partial_errors", None):
            errors = result.errors or []
            if not self.suggestions:
                errors = without_suggestions(errors)
            result.errors = shape_errors(errors, context_value)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logging happens in ``GatewayErrors`` (with the request id, and without tracebacks for the
        expected errors), so the default log-everything-with-traceback is switched off here."""


def query_costs(settings: Settings) -> QueryCosts:
    return QueryCosts(
        limit=settings.max_query_cost,
        listing=settings.cost_listing,
        page=settings.cost_page,
        lookup=settings.cost_lookup,
        mutation_contact=settings.cost_mutation_contact,
        indexed=settings.index,
    )


def validation_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The validation rules every document meets besides the specification's.

    Built once per schema, not per request: the speed layer's validation cache compares rule classes.
    One iterative rule measures depth, aliases and fragment chains (Strawberry's depth and alias
    limiters recurse through fragments, so a long chain raised RecursionError, and a fragment spread
    twice per level took exponential time).
    """
    rules: list[type[ASTValidationRule]] = [
        query_shape_rule(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_fragment_chain=settings.max_fragment_chain,
        ),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def _strawberry_extensions(
    rules: list[type[ASTValidationRule]], settings: Settings, *, caches: bool
) -> list[Callable[[], SchemaExtension]]:
    """Strawberry's own extensions for the same limits: the path without the speed layer."""
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
    ]
    if caches:
        extensions.append(lambda: ParserCache(maxsize=settings.query_cache_size))
    return extensions


def build_schema(
    settings: Settings,
    *,
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
    caches: bool = True,
) -> GatewaySchema:
    """The schema for one application instance (``gateway/app.py`` builds it).

    ``extensions`` (factories, one instance per request) run after the gateway's own, on every
    request, with the speed layer on or off.  ``caches=False`` leaves out the parse and validation
    caches (benchmarks measure what they buy).  The SDL does not depend on ``settings``.
    """
    rules = validation_rules(settings)
    fast = (
        speed_layer(
            rules, max_tokens=settings.max_query_tokens, cache_size=settings.query_cache_size, caches=caches
        )
        if settings.speed_layer
        else None
    )
    if fast is not None:
        own, executor = fast.extensions, fast.execution_context_class
    else:
        own, executor = _strawberry_extensions(rules, settings, caches=caches), None
    # One subclass per schema carries its prices: Strawberry builds one extension per request.
    cost_limit = type("SchemaCostLimit", (CostLimit,), {"costs": query_costs(settings)})
    schema = GatewaySchema(
        query=merge_types("Query", (Query, WebhookQueries)),
        mutation=merge_types("Mutation", (Mutation, WebhookMutations)),
        subscription=Subscription,
        types=[ConstantContactDeletedContact, GetResponseDeletedContact],
        # The answer cache after the cost limit: a reused answer is charged and reports its cost too.
        extensions=[*own, cost_limit, AnswerCacheExtension, *extensions],
        execution_context_class=executor,
        config=StrawberryConfig(scalar_map=SCALARS),
    )
    schema.suggestions = settings.introspection
    return schema

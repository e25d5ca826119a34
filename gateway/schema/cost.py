"""The cost of a GraphQL request, added up from its document and variables before it runs.

:class:`CostLimit` walks the operation about to execute with the prices of
:class:`gateway.core.costs.QueryCosts`: every field occurrence counts (thirty aliases of a field cost
thirty times one), list arguments multiply (a lookup of a hundred addresses costs a hundred lookups
per provider), fragments count where they are spread (each fragment's cost is computed once, so a
fragment spread twice per level does not take exponential time), and ``@skip``/``@include`` are
followed with the request's variables.  Over the limit, the request is answered with
``COST_LIMIT_EXCEEDED`` (``extensions.cost`` and ``extensions.limit``) and nothing runs; otherwise
the response's ``extensions.cost`` says what it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DirectiveNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    Undefined,
)
from graphql.utilities import get_operation_ast, value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from gateway.core.costs import QueryCosts
from gateway.errors import RateLimitExceeded

from .context import GatewayContext
from .errors import error_extensions

__all__ = ["CostLimit", "request_cost"]

# Fields that reach a provider once per occurrence, whatever their arguments: at the root, and nested
# (the campaign and message of a page's GetResponse contacts, each loaded in one batch).
_ROOT_ONCE = frozenset(
    {"deletedContact", "node", "constantContactLists", "getResponseCampaigns", "bulkOperation"}
)
_NESTED_ONCE = frozenset({"campaign", "message"})
_MUTATIONS = frozenset({"deleteContacts", "restoreContacts"})


class _Walk:
    def __init__(
        self,
        costs: QueryCosts,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        providers: int,
    ) -> None:
        self.costs = costs
        self.fragments = fragments
        self.variables = dict(variables)
        self.providers = providers
        self._fragment_costs: dict[tuple[str, bool], int] = {}

    def argument(self, node: FieldNode | DirectiveNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = value_from_ast_untyped(argument.value, self.variables)
                return None if value is Undefined else value
        return None

    def included(self, node: SelectionNode) -> bool:
        for directive in node.directives or ():
            if directive.name.value in ("skip", "include"):
                condition = bool(self.argument(directive, "if"))
                if (directive.name.value == "skip") == condition:
                    return False
        return True

    def selection(self, selection_set: SelectionSetNode | None, *, root: bool) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if not self.included(node):
                continue
            if isinstance(node, FieldNode):
                total += self.field(node) if root else self.nested(node)
            elif isinstance(node, InlineFragmentNode):
                total += self.selection(node.selection_set, root=root)
            elif isinstance(node, FragmentSpreadNode):
                total += self.fragment(node.name.value, root=root)
        return total

    def fragment(self, name: str, *, root: bool) -> int:
        key = (name, root)
        if key not in self._fragment_costs:
            self._fragment_costs[key] = 0  # a cycle (refused by validation) costs nothing more
            definition = self.fragments.get(name)
            self._fragment_costs[key] = (
                self.selection(definition.selection_set, root=root) if definition else 0
            )
        return self._fragment_costs[key]

    def nested(self, node: FieldNode) -> int:
        own = self.costs.lookup if node.name.value in _NESTED_ONCE else 0
        return own + self.selection(node.selection_set, root=False)

    def field(self, node: FieldNode) -> int:
        """A root field: what it costs, and what its selection costs."""
        costs, name = self.costs, node.name.value
        own = 0
        if name == "deletedContacts":
            providers = _length(_get(self.argument(node, "filter"), "providers")) or self.providers
            paged = self.argument(node, "after") is not None or self.argument(node, "before") is not None
            indexed = costs.indexed and self.argument(node, "consistency") != "LIVE"
            own = costs.page if paged or indexed else costs.listing * providers
        elif name == "deletedContactsByEmail":
            own = costs.lookup * _length(self.argument(node, "emails")) * self.providers
        elif name == "nodes":
            own = costs.lookup * _length(self.argument(node, "ids"))
        elif name in _MUTATIONS:
            own = costs.mutation_contact * _length(_get(self.argument(node, "input"), "contacts"))
        elif name in _ROOT_ONCE:
            own = costs.lookup
        return own + self.selection(node.selection_set, root=False)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _length(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return 0 if value is None else 1  # a single value where a list goes is coerced to a list of one


def request_cost(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    costs: QueryCosts,
    *,
    providers: int,
) -> int:
    return _Walk(costs, fragments, variables, providers).selection(operation.selection_set, root=True)


class CostLimit(SchemaExtension):
    """Refuses a request over the cost limit, or over its principal's budget, before it runs;
    reports the cost of the others."""

    costs: QueryCosts  # set on the subclass ``build_schema`` makes (one per schema)

    def __init__(self) -> None:
        self._cost: int | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            gateway = context.context if isinstance(context.context, GatewayContext) else None
            providers = len(gateway.services.ports) if gateway is not None else 1
            self._cost = request_cost(
                operation, fragments, context.variables or {}, self.costs, providers=providers or 1
            )
            if gateway is not None:
                gateway.query_cost = self._cost
            refusal = self._over_limit(self._cost)
            if refusal is None and gateway is not None and gateway.services.budgets is not None:
                try:
                    await gateway.services.budgets.charge(
                        gateway.principal, self._cost, write=operation.operation is OperationType.MUTATION
                    )
                except RateLimitExceeded as error:
                    refusal = GraphQLError(error.message, extensions=error_extensions(error))
            if refusal is not None:
                context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _over_limit(self, cost: int) -> GraphQLError | None:
        if cost <= self.costs.limit:
            return None
        return GraphQLError(
            f"This request would cost {cost} upstream requests; the limit is "
            f"{self.costs.limit}. Ask for fewer contacts, addresses or aliases per request.",
            extensions={"code": "COST_LIMIT_EXCEEDED", "cost": cost, "limit": self.costs.limit},
        )

    def get_results(self) -> dict[str, Any]:
        if self._cost is None:
            return {}
        return {"cost": {"requested": self._cost, "limit": self.costs.limit}}

"""The per-request GraphQL context: request id, shared services, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from graphql import GraphQLError

from gateway.core.principals import Caller, Principal
from gateway.core.services import Services

from .loaders import Loaders

__all__ = ["GatewayContext", "Info"]


@dataclass
class GatewayContext:
    caller: Caller
    """Who is asking (the authenticated principal) and the request's ids."""
    services: Services
    loaders: Loaders
    partial_errors: list[GraphQLError] = field(default_factory=list)
    """Errors to report next to data (a provider failed; the others answered)."""
    query_cost: int | None = None
    """The request's cost (``cost.CostLimit``), once computed."""
    answered_live: bool = False
    """A resolver read the providers rather than the index: the answer is not kept for reuse."""
    answer_reused: bool = False
    """The answer is one kept earlier (``answer_cache.AnswerCacheExtension``); nothing was resolved."""

    @property
    def request_id(self) -> str:
        return self.caller.request_id

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    @classmethod
    def create(cls, services: Services, caller: Caller) -> GatewayContext:
        # Loaders are built here, inside the request and its running event loop: aiodataloader binds
        # to the loop at construction, and per-request loaders never leak cached data across callers.
        return cls(caller=caller, services=services, loaders=Loaders(services))


Info = strawberry.Info[GatewayContext, None]

"""The per-request GraphQL context: request id, shared services, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from graphql import GraphQLError

from gateway.core.services import Services

from .loaders import Loaders

__all__ = ["GatewayContext", "Info"]


@dataclass
class GatewayContext:
    request_id: str
    services: Services
    loaders: Loaders
    partial_errors: list[GraphQLError] = field(default_factory=list)
    """Errors to report next to data (a provider failed; the others answered)."""

    @classmethod
    def create(cls, services: Services, request_id: str) -> GatewayContext:
        # Loaders are built here, inside the request and its running event loop: aiodataloader binds
        # to the loop at construction, and per-request loaders never leak cached data across callers.
        return cls(request_id=request_id, services=services, loaders=Loaders(services))


Info = strawberry.Info[GatewayContext, None]

"""Scopes on fields: a field a caller's principal may not see answers null with a FORBIDDEN error.

Each guarded field carries ``extensions=requires(Scope.X)``.  The check runs before the field's
resolver, so a mutation without its scope never reaches core, let alone a provider; the rest of the
answer still comes back, as GraphQL does for any field error.  The error names the scope
(``extensions.scope``), so a caller knows what to ask for.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from gateway.core.principals import Scope

from .context import Info

__all__ = ["ScopeRequired", "requires"]


class ScopeRequired(BasePermission):
    """Granted when the request's principal holds ``scope``."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.message = f"This field needs the {scope.value} scope."
        self.error_extensions = {"code": "FORBIDDEN", "scope": scope.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.allows(self.scope)


def requires(scope: Scope) -> list[FieldExtension]:
    """The field extensions that guard a field with ``scope``."""
    # No schema directive: scopes are documented in field descriptions and the README, and a
    # directive per guarded field would change the printed schema for no client's benefit.
    return [PermissionExtension(permissions=[ScopeRequired(scope)], use_directives=False)]

"""Who is asking: the principal a verified credential stands for, and the scopes it may hold.

A principal is either a service key the gateway issued (``gateway keys create``) or the subject of an
access token from an OIDC issuer.  It travels explicitly from the HTTP edge to whatever acts on the
caller's behalf; nothing reads it from a global.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Caller", "Principal", "PrincipalKind", "PrincipalLimits", "Scope"]


class Scope(enum.StrEnum):
    """Every permission a credential can carry; one per kind of thing a caller may do."""

    CONTACTS_READ = "contacts:read"
    CONTACTS_READ_RAW = "contacts:read:raw"
    CONTACTS_DELETE = "contacts:delete"
    CONTACTS_RESTORE = "contacts:restore"
    CONSENT_OVERRIDE = "consent:override"
    AUDIT_READ = "audit:read"
    METRICS_READ = "metrics:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


class PrincipalKind(enum.Enum):
    KEY = "key"
    """A service key stored in the gateway's database."""
    TOKEN = "token"
    """A JWT access token from an OIDC issuer."""
    LOCAL = "local"
    """Authentication is off (``AUTH_MODE=off``, local development only): every request is this
    principal, holding every scope."""


@dataclass(frozen=True, slots=True)
class PrincipalLimits:
    """A service key's own budget (``gateway.core.budgets``); None: the settings' default."""

    requests_per_minute: int | None = None
    daily_cost: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: str
    """Stable identity: the key's id, or ``iss`` and ``sub`` of a token joined by a space."""
    name: str
    """What a person reads in a listing or an audit event: the key's name, or the token's subject."""
    scopes: frozenset[str]
    limits: PrincipalLimits | None = None
    """Limits of its own (service keys may carry them); None: the defaults."""

    @property
    def scope_key(self) -> str:
        """One string per principal, for keying data that must stay the principal's own
        (idempotency records): the kind keeps a key id from ever equalling a token's subject."""
        return f"{self.kind.value}:{self.id}"

    def allows(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes

    @classmethod
    def local(cls) -> Principal:
        """The principal of every request when authentication is off."""
        return cls(PrincipalKind.LOCAL, "local", "local (authentication off)", frozenset(Scope))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, within which request: what an action records about its origin."""

    principal: Principal
    request_id: str
    """The gateway's own id of the request."""
    correlation_id: str | None = None
    """The caller's ``X-Request-ID``, when it sent one."""

"""The Protocols the gateway's own database implements for core and the HTTP edge (``gateway.store``).

Kept apart from ``ports.py``, which describes the providers: these describe the gateway's own state.
Room is left here for the audit trail and the deleted-contact index, which build on the same store.
"""

from __future__ import annotations

from typing import Protocol

from .idempotency import IdempotencyStore
from .principals import Principal

__all__ = ["CredentialVerifier", "PrincipalIdempotencyStore"]


class CredentialVerifier(Protocol):
    async def verify(self, credential: str) -> Principal | None:
        """The principal ``credential`` stands for, or None when it is unknown, malformed, expired or
        revoked.  A revocation made through any replica is seen by the next call on every replica."""
        ...


class PrincipalIdempotencyStore(IdempotencyStore, Protocol):
    def for_principal(self, principal: Principal) -> IdempotencyStore:
        """The same store seen by one principal: its keys and results are invisible to every other."""
        ...

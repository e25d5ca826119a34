"""The gateway's exception hierarchy, all of it, in one picture.

::

    GatewayError                      base of every error the gateway raises on purpose
    ├── UserInputError                the caller asked for something malformed (BAD_USER_INPUT)
    │   ├── InvalidId                 a global id that does not decode to a known type (INVALID_ID)
    │   ├── InvalidCursor             a cursor that is malformed or belongs to another query (INVALID_CURSOR)
    │   ├── CursorExpired             a well-formed cursor whose snapshot is gone (CURSOR_EXPIRED)
    │   └── ServiceKeyError           a service-key command named no key, a taken name or an unknown scope
    ├── ProviderNotConfigured         the query names a provider with no credentials (PROVIDER_NOT_CONFIGURED)
    ├── IndexNotReady                 the synced index cannot answer yet (INDEX_NOT_READY)
    ├── ListingTooLarge               a live listing matched more contacts than the live path pages
    │                                 (LISTING_TOO_LARGE): ask the index, or narrow the filter
    ├── Forbidden                     the caller lacks the scope a field or an input needs (FORBIDDEN)
    ├── RateLimitExceeded             the caller is over its request rate or daily cost (RATE_LIMITED)
    ├── DatabaseError                 the gateway's own database is unreachable or unusable (DATABASE_ERROR)
    │   └── DatabaseNotMigrated       it is behind the code's migrations (DATABASE_NOT_MIGRATED)
    ├── BlastRadiusExceeded           a mutation's references resolved to more contacts than they can name
    │                                 (BLAST_RADIUS_EXCEEDED); nothing was changed
    └── ProviderError                 talking to a provider went wrong; its subclasses live in
                                      gateway.providers.errors (timeouts, 429s, auth, 404, 409, ...)

Every class carries ``code``, the value the GraphQL layer puts in ``extensions.code``.  Messages are
written for the caller and never contain credentials.

``ProviderError`` itself lives here, not beside its subclasses, so that the layers which only report
provider failures (the GraphQL layer, core) depend on this module alone and never on a provider
package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: gateway.core.model imports this module, so a runtime import would cycle.
    from gateway.core.model import Provider

__all__ = [
    "BlastRadiusExceeded",
    "CursorExpired",
    "DatabaseError",
    "DatabaseNotMigrated",
    "Forbidden",
    "GatewayError",
    "IndexNotReady",
    "InvalidCursor",
    "InvalidId",
    "ListingTooLarge",
    "ProviderError",
    "ProviderNotConfigured",
    "RateLimitExceeded",
    "ServiceKeyError",
    "UserInputError",
    "shown",
]


class GatewayError(Exception):
    code = "GATEWAY_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserInputError(GatewayError):
    code = "BAD_USER_INPUT"


class InvalidId(UserInputError):
    code = "INVALID_ID"


class InvalidCursor(UserInputError):
    code = "INVALID_CURSOR"


class CursorExpired(UserInputError):
    code = "CURSOR_EXPIRED"


class ServiceKeyError(UserInputError):
    """A ``gateway keys`` request that cannot be done; ``code`` says which: SERVICE_KEY_NOT_FOUND,
    SERVICE_KEY_NAME_TAKEN, UNKNOWN_SCOPE, or this default."""

    code = "SERVICE_KEY_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ProviderNotConfigured(GatewayError):
    code = "PROVIDER_NOT_CONFIGURED"


class IndexNotReady(GatewayError):
    """``consistency: INDEXED`` was asked of a provider whose index has not finished its first backfill
    (or of a gateway without an index)."""

    code = "INDEX_NOT_READY"


class ListingTooLarge(GatewayError):
    """A live first page matched more contacts than a snapshot holds: rather than page a truncated
    list (a client walking every page would silently miss the rest), the listing is refused."""

    code = "LISTING_TOO_LARGE"


class Forbidden(GatewayError):
    """The request's principal does not hold ``scope``, which ``what`` needs."""

    code = "FORBIDDEN"

    def __init__(self, scope: str, what: str) -> None:
        super().__init__(f"{what} needs the {scope} scope.")
        self.scope = scope


class RateLimitExceeded(GatewayError):
    """The principal's budget (``gateway.core.budgets``) is spent; ``retry_after`` says when it refills."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BlastRadiusExceeded(GatewayError):
    """A provider answered more contacts for a reference than the reference can name (an ignored
    filter, a changed API): the whole mutation is refused before its first write."""

    code = "BLAST_RADIUS_EXCEEDED"


class DatabaseError(GatewayError):
    code = "DATABASE_ERROR"


class DatabaseNotMigrated(DatabaseError):
    code = "DATABASE_NOT_MIGRATED"


class ProviderError(GatewayError):
    """Something went wrong talking to ``provider``; ``status_code`` is the HTTP status, when one came back.

    ``retry_after`` (seconds) is set by the subclasses that know when trying again makes sense.
    """

    code = "PROVIDER_ERROR"
    retry_after: float | None = None

    def __init__(self, message: str, *, provider: Provider, status_code: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider.value!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.provider.value}: {self.message}"


def shown(value: str) -> str:
    """``value`` for an error message: short, so a hostile input never comes back at full length."""
    return repr(value) if len(value) <= 40 else f"{value[:40]!r}... ({len(value)} characters)"

"""Every exception a provider adapter raises, in one place.

The hierarchy::

    ProviderError                 anything that went wrong talking to a provider (defined in gateway.errors)
    ├── ProviderRequestError      the call did not produce a usable answer
    │   ├── ProviderTimeout       connect/read/total timeout expired (after retries)
    │   ├── ProviderUnavailable   connection refused or dropped, 5xx (after retries)
    │   │   └── CircuitOpen       the breaker is open: we did not even try
    │   └── InvalidUpstreamResponse  the body was not the JSON shape the provider documents
    ├── RateLimited               429 throttled / quota exceeded, or our own daily budget is spent
    ├── AuthenticationFailed      401, "API key verification failed", refresh failed
    ├── Forbidden                 403, "API client IP not allowed"
    ├── NotFound                  404, "Missing contact", "Missing campaign", ...
    ├── Conflict                  409; ``existing_id`` names the contact that holds the email
    ├── ValidationFailed          400 and JSON-RPC "Invalid params"; ``details`` keeps every item
    └── RequestNotSendable        the request could not be built (a URL too long, say): nothing sent

Rules every subclass follows:

- ``provider`` says which provider answered, as the ``gateway.core.model.Provider`` member.
- ``code`` is the stable machine-readable name the GraphQL layer puts in ``extensions.code``.
- Messages and reprs never contain access tokens, refresh tokens, client secrets or API keys:
  adapters build them from the provider's error text and the operation name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.core.model import Provider
from gateway.errors import ProviderError

__all__ = [
    "AuthenticationFailed",
    "CircuitOpen",
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "InvalidUpstreamResponse",
    "NotFound",
    "ProviderError",
    "ProviderRequestError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimited",
    "RequestNotSendable",
    "ValidationFailed",
]


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One item of a provider's validation error (Constant Contact ``{error_key, error_message}``)."""

    key: str
    message: str


class ProviderRequestError(ProviderError):
    """The request did not produce a usable answer (network, timeout, 5xx, garbage).

    ``retry_after`` is the provider's ``Retry-After`` hint (seconds) when it sent one.
    """

    code = "PROVIDER_UNAVAILABLE"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.retry_after = retry_after


class ProviderTimeout(ProviderRequestError):
    code = "PROVIDER_TIMEOUT"


class ProviderUnavailable(ProviderRequestError):
    code = "PROVIDER_UNAVAILABLE"


class CircuitOpen(ProviderUnavailable):
    """The circuit breaker is open; ``retry_after`` is the time until it half-opens."""

    def __init__(self, message: str, *, provider: Provider, retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider, retry_after=retry_after)


class InvalidUpstreamResponse(ProviderRequestError):
    code = "PROVIDER_INVALID_RESPONSE"


class RateLimited(ProviderError):
    """429 from the provider, or our own limiter refusing to spend more of the daily budget.

    ``kind`` is ``"throttled"`` (per-second limit; worth retrying soon) or ``"quota_exceeded"``
    (daily quota; ``reset_at`` says when it resets, retrying earlier is pointless).
    """

    code = "PROVIDER_RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        kind: str,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        status_code: int | None = 429,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.kind = kind
        self.retry_after = retry_after
        self.reset_at = reset_at


class AuthenticationFailed(ProviderError):
    code = "PROVIDER_AUTH_FAILED"


class Forbidden(ProviderError):
    code = "PROVIDER_FORBIDDEN"


class NotFound(ProviderError):
    code = "NOT_FOUND"


class Conflict(ProviderError):
    """The provider refused because the resource exists; ``existing_id`` names it when known."""

    code = "CONFLICT"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        existing_id: str | None = None,
        status_code: int | None = 409,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.existing_id = existing_id


class ValidationFailed(ProviderError):
    code = "PROVIDER_VALIDATION_FAILED"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        details: Sequence[ErrorDetail] = (),
        status_code: int | None = 400,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.details = tuple(details)


class RequestNotSendable(ProviderError):
    """The request could not be built, so nothing was sent: a URL longer than the HTTP client takes,
    a value that cannot be encoded.  The gateway's input limits stop such values before they reach an
    adapter; this is the defence behind them.  Not retried, and not a failure of the provider."""

    code = "PROVIDER_REQUEST_NOT_SENDABLE"

    def __init__(self, message: str, *, provider: Provider) -> None:
        super().__init__(message, provider=provider, status_code=None)

"""The one failure of this package that is not the caller's: the issuer's keys cannot be fetched."""

from __future__ import annotations

from gateway.errors import GatewayError

__all__ = ["IdentityProviderUnavailable"]


class IdentityProviderUnavailable(GatewayError):
    """The issuer's key set (or its discovery document) could not be read and none is cached: no
    token can be checked, so the request is answered 503, not 401 (its token may well be valid)."""

    code = "AUTHENTICATION_UNAVAILABLE"

"""Identities from outside the gateway: access tokens issued by an OIDC provider.

Service keys, which the gateway issues itself, live with the gateway's database (``gateway.store``);
this package verifies JWT access tokens against an issuer's published keys (JWKS).
"""

from .errors import IdentityProviderUnavailable
from .jwks import JwksSource
from .tokens import TokenPolicy, TokenVerifier

__all__ = ["IdentityProviderUnavailable", "JwksSource", "TokenPolicy", "TokenVerifier"]

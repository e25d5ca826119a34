"""JWT access tokens from an OIDC issuer, verified into principals.

A token is accepted only when all of these hold:

- its header names an algorithm on the allow-list (:class:`TokenPolicy`; the settings refuse
  ``none`` and every HMAC algorithm, so a public key can never be used as a shared secret);
- the issuer's key set holds the key its ``kid`` names, and that key's own ``alg``, if it states
  one, is the header's (a token cannot pick a weaker algorithm for a key than the key declares);
- the signature verifies with that key;
- ``iss`` is the configured issuer, ``aud`` holds the configured audience, ``exp`` is in the future
  and ``nbf``/``iat`` are not, each within ``leeway_seconds`` of clock skew; ``sub`` is present.

The principal is the issuer and subject together (two issuers may reuse a subject), its scopes the
known ones among ``scope`` (a space-separated string, RFC 8693) or ``scp`` (a list or a string, as
some issuers write it).  Scopes the gateway does not know are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import jwt
from jwt.exceptions import PyJWTError

from gateway.core.principals import Principal, PrincipalKind, Scope

from .jwks import JwksSource

__all__ = ["TokenPolicy", "TokenVerifier", "looks_like_jwt"]

logger = logging.getLogger("gateway.auth")

_KNOWN_SCOPES = frozenset(scope.value for scope in Scope)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    leeway_seconds: float
    max_token_length: int


def looks_like_jwt(credential: str) -> bool:
    """Three dot-separated parts: a compact JWS.  Anything else is not offered to the verifier."""
    return credential.count(".") == 2


def _scopes(claims: dict[str, object]) -> frozenset[str]:
    found: list[str] = []
    for claim in ("scope", "scp"):
        value = claims.get(claim)
        if isinstance(value, str):
            found.extend(value.split())
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, str))
    return frozenset(found) & _KNOWN_SCOPES


class TokenVerifier:
    def __init__(self, policy: TokenPolicy, keys: JwksSource) -> None:
        self._policy = policy
        self._keys = keys

    async def verify(self, credential: str) -> Principal | None:
        policy = self._policy
        if len(credential) > policy.max_token_length or not looks_like_jwt(credential):
            return None
        try:
            header = jwt.get_unverified_header(credential)
        except PyJWTError:
            return None
        algorithm = header.get("alg")
        if algorithm not in policy.algorithms:
            logger.info("token refused: algorithm %r is not allowed", algorithm)
            return None
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            return None
        key = await self._keys.key(kid)
        if key is None:
            logger.info("token refused: the issuer publishes no key %r", kid)
            return None
        if key.algorithm not in (None, algorithm):
            logger.info("token refused: key %r is for %s, not %s", kid, key.algorithm, algorithm)
            return None
        try:
            claims = jwt.decode(
                credential,
                key=key.key,
                algorithms=[algorithm],
                audience=policy.audience,
                issuer=policy.issuer,
                leeway=policy.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (PyJWTError, ValueError, TypeError) as error:
            logger.info("token refused: %s", type(error).__name__)
            return None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            return None
        name = claims.get("preferred_username") or claims.get("email") or subject
        return Principal(
            PrincipalKind.TOKEN,
            f"{policy.issuer} {subject}",
            str(name) if isinstance(name, str) else subject,
            _scopes(claims),
        )

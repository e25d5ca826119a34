"""An issuer's signing keys (JWKS), fetched over HTTP, cached, and fetched again for an unknown ``kid``.

Keys are kept for ``cache_seconds``.  A token naming a key id the cache does not hold is the sign of
a key rotation, so the set is fetched again at once -- but at most once per ``min_refresh_seconds``,
so that tokens with made-up key ids cannot make the gateway hammer the issuer.  When a refresh fails
and keys are cached, the cached keys go on being used (logged); with nothing cached, the failure is
:class:`IdentityProviderUnavailable`.

Without an explicit JWKS URL, the issuer's discovery document
(``{issuer}/.well-known/openid-configuration``) names it, read once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .errors import IdentityProviderUnavailable

__all__ = ["JwksSource", "SigningKey"]

logger = logging.getLogger("gateway.auth")


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: PyJWK
    """The public key, as the JOSE library uses it."""
    algorithm: str | None
    """The algorithm the key set declares for it (``alg``), if it declares one."""


class JwksSource:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        jwks_url: str | None,
        issuer: str,
        cache_seconds: float,
        min_refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._jwks_url = jwks_url
        self._issuer = issuer
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str | None, SigningKey] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> SigningKey | None:
        """The key ``kid`` names (a token without ``kid``: the set's only key), or None."""
        if self._stale():
            await self._refresh(force=False)
        found = self._find(kid)
        if found is None and self._may_refresh():
            await self._refresh(force=True)
            found = self._find(kid)
        return found

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._cache_seconds

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh_seconds

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # Another request may have refreshed while this one waited for the lock.
            if not (self._may_refresh() if force else self._stale()):
                return
            try:
                keys = await self._fetch()
            except IdentityProviderUnavailable:
                if not self._keys:
                    raise
                logger.warning("the issuer's keys could not be refreshed; the cached ones stay in use")
                self._fetched_at = self._clock()  # do not retry on every request
                return
            self._keys = keys
            self._fetched_at = self._clock()

    async def _fetch(self) -> dict[str | None, SigningKey]:
        url = self._jwks_url or await self._discover()
        document = await self._get_json(url, "key set")
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise IdentityProviderUnavailable("the issuer's key set has no keys")
        keys: dict[str | None, SigningKey] = {}
        for entry in entries:
            # Symmetric keys are never used: a key set is public, so an HMAC key in it is no secret.
            if (
                not isinstance(entry, dict)
                or entry.get("kty") == "oct"
                or entry.get("use") not in (None, "sig")
            ):
                continue
            try:
                jwk = PyJWK(entry)
            except (PyJWTError, KeyError, TypeError, ValueError):
                logger.warning(
                    "skipped a key the issuer publishes that cannot be used (kid %r)", entry.get("kid")
                )
                continue
            declared = entry.get("alg")
            keys[jwk.key_id] = SigningKey(jwk, declared if isinstance(declared, str) else None)
        return keys

    async def _discover(self) -> str:
        document = await self._get_json(
            self._issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document"
        )
        url = document.get("jwks_uri")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise IdentityProviderUnavailable("the issuer's discovery document names no jwks_uri")
        self._jwks_url = url
        return url

    async def _get_json(self, url: str, what: str) -> dict[str, object]:
        try:
            response = await self._client.get(url, headers={"accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("could not read the issuer's %s at %s: %s", what, url, type(error).__name__)
            raise IdentityProviderUnavailable(f"the issuer's {what} cannot be read") from error
        if not isinstance(document, dict):
            raise IdentityProviderUnavailable(f"the issuer's {what} is not a JSON object")
        return document

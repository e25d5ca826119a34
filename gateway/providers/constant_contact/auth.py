"""Bearer credentials for Constant Contact v3, with an optional OAuth2 refresh.

Access tokens expire (24 h per CC support).  When a refresh token and the app's client id and secret
are configured, a 401 makes the client refresh once and retry.  Concurrency is the subtle part: a
burst of requests sent with the same expired token all come back 401 at about the same time, and each
of them must not spend the refresh token (CC may rotate it; the second refresh would then fail).
Every request therefore remembers the *generation* of the token it was sent with; the first 401 of a
generation refreshes under a lock, and every later 401 of that generation just picks up the new
token.

The refresh is the standard ``grant_type=refresh_token`` form POST to the token URL with the client
credentials in HTTP Basic auth, never in the URL: httpx logs URLs, and nothing secret may reach a
log.  Neither :class:`OAuthRefresh` nor :class:`BearerCredentials` shows a secret in its repr.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from gateway.providers.errors import AuthenticationFailed, InvalidUpstreamResponse, ProviderUnavailable
from gateway.providers.resilience import transport_error

from .records import PROVIDER

__all__ = ["BearerCredentials", "OAuthRefresh", "TokenGrant"]


@dataclass(frozen=True, slots=True)
class OAuthRefresh:
    """Where and how to refresh: the token endpoint, the app's credentials and the refresh token."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_in: float | None = None


def _parse_grant(response: httpx.Response) -> TokenGrant:
    try:
        payload: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, Mapping):
        raise InvalidUpstreamResponse(
            "token endpoint answered with a body that is not JSON", provider=PROVIDER
        )
    access = payload.get("access_token")
    refresh = payload.get("refresh_token")
    expires = payload.get("expires_in")
    if not isinstance(access, str) or not access:
        raise InvalidUpstreamResponse("token endpoint answered without an access_token", provider=PROVIDER)
    return TokenGrant(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_in=float(expires)
        if isinstance(expires, int | float) and not isinstance(expires, bool)
        else None,
    )


def _rejection(response: httpx.Response) -> AuthenticationFailed:
    """The OAuth error code (``invalid_grant``, ...) is safe to show; its description may not be."""
    code = "rejected"
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
        code = "".join(ch for ch in payload["error"] if ch.isalnum() or ch in "_-.")[:64] or code
    return AuthenticationFailed(
        f"access token expired or invalid, and the token refresh failed ({code})",
        provider=PROVIDER,
        status_code=response.status_code,
    )


class BearerCredentials:
    """The current access token, its generation, and the one-at-a-time refresh."""

    def __init__(self, access_token: str, refresh: OAuthRefresh | None = None) -> None:
        self._access_token = access_token
        self._refresh = refresh
        self._refresh_token = refresh.refresh_token if refresh else None
        self._generation = 0
        self._failed_generation: int | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"BearerCredentials(generation={self._generation}, can_refresh={self.can_refresh})"

    @property
    def can_refresh(self) -> bool:
        return self._refresh is not None

    @property
    def generation(self) -> int:
        return self._generation

    def authorization(self) -> tuple[int, str]:
        """The ``Authorization`` header value and the generation it belongs to."""
        return self._generation, f"Bearer {self._access_token}"

    def secrets(self) -> tuple[str, ...]:
        """Every secret currently held, so error texts can be scrubbed of them."""
        values = [self._access_token, self._refresh_token]
        if self._refresh:
            values.append(self._refresh.client_secret)
        return tuple(v for v in values if v)

    async def refresh_after(self, generation: int, http: httpx.AsyncClient) -> None:
        """Make sure the token is newer than ``generation``: refresh it, or wait for whoever is.

        Raises :class:`AuthenticationFailed` when no refresh is configured or the token endpoint
        refuses; the refusal is remembered, so the other requests of that generation fail at once.
        """
        if self._refresh is None:
            raise AuthenticationFailed(
                "access token expired or invalid (401)", provider=PROVIDER, status_code=401
            )
        async with self._lock:
            if self._generation != generation:
                return
            if self._failed_generation == generation:
                raise AuthenticationFailed(
                    "access token expired or invalid, and the token refresh failed", provider=PROVIDER
                )
            grant = await self._request_grant(self._refresh, http)
            self._access_token = grant.access_token
            if grant.refresh_token:  # rotating refresh tokens: the old one is now spent
                self._refresh_token = grant.refresh_token
            self._generation += 1
            self.refreshes += 1

    async def _request_grant(self, refresh: OAuthRefresh, http: httpx.AsyncClient) -> TokenGrant:
        assert self._refresh_token is not None
        try:
            response = await http.post(
                refresh.token_url,
                data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                auth=httpx.BasicAuth(refresh.client_id, refresh.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise transport_error(PROVIDER, exc) from None
        if response.status_code in (400, 401, 403):
            self._failed_generation = self._generation
            raise _rejection(response)
        if response.status_code != 200:
            raise _unavailable(response)
        return _parse_grant(response)


def _unavailable(response: httpx.Response) -> ProviderUnavailable:
    return ProviderUnavailable(
        f"token endpoint answered HTTP {response.status_code}",
        provider=PROVIDER,
        status_code=response.status_code,
    )

"""Bearer access tokens and the OAuth2 token endpoint (``POST /oauth2/default/v1/token``).

At CC the token endpoint lives on ``authz.constantcontact.com``; the emulator serves it on its own
host so one base URL covers both.  It supports the ``refresh_token`` grant only (the one a server-side
gateway uses), as RFC 6749 §6 describes it:

- body ``application/x-www-form-urlencoded``: ``grant_type=refresh_token&refresh_token=...``;
- client authentication by HTTP Basic (``client_id:client_secret``, each form-encoded first) *or* by
  ``client_id``/``client_secret`` form fields, not both;
- success: 200 ``{"token_type": "Bearer", "expires_in": 86400, "access_token": ..., "scope":
  "contact_data offline_access", "refresh_token": ...}`` with ``Cache-Control: no-store``; the new
  access token is accepted from then on and expires after ``access_token_lifetime_seconds`` on the
  emulator clock; older access tokens stay valid until they expire;
- errors in OAuth2's shape ``{"error": ..., "error_description": ...}``: ``invalid_request`` (400),
  ``invalid_client`` (401, with ``WWW-Authenticate: Basic`` when Basic was tried),
  ``invalid_grant`` (400: unknown, revoked or rotated-away refresh token),
  ``unsupported_grant_type`` (400).

API requests need ``Authorization: Bearer <token>``; anything else is a 401 ``unauthorized`` (a single
object).  Tokens are only ever compared and counted: no response, log or repr contains one.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from emulators.control import Clock, json_response

from .settings import ConstantContactEmulatorSettings

__all__ = ["OAuthError", "TokenRegistry"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_SCOPE = "contact_data offline_access"


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, *, basic_challenge: bool = False) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.basic_challenge = basic_challenge

    def response(self) -> Response:
        headers = dict(_NO_STORE)
        if self.basic_challenge:
            headers["WWW-Authenticate"] = 'Basic realm="emulator"'
        return json_response(
            {"error": self.error, "error_description": self.description}, self.status, headers
        )


class TokenRegistry:
    def __init__(self, settings: ConstantContactEmulatorSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.load()

    def load(self) -> None:
        """Back to the configured tokens only (start, and ``POST /_emulator/reset``)."""
        self._access: dict[str, datetime | None] = dict.fromkeys(self.settings.access_tokens)
        self._refresh: set[str] = set(self.settings.refresh_tokens)

    # -- API requests ------------------------------------------------------------------------------

    def principal(self, authorization: str | None) -> str | None:
        """The valid access token in an ``Authorization`` header, or None."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or token not in self._access:
            return None
        expires_at = self._access[token]
        if expires_at is not None and self.clock.now() >= expires_at:
            return None
        return token

    # -- control plane -----------------------------------------------------------------------------

    def expire(self, tokens: list[str] | None = None) -> int:
        """End the given access tokens (all when None) now; the number that were still valid."""
        now = self.clock.now()
        chosen = self._access.keys() if tokens is None else [t for t in tokens if t in self._access]
        ended = 0
        for token in list(chosen):
            expires_at = self._access[token]
            if expires_at is None or expires_at > now:
                ended += 1
            self._access[token] = now
        return ended

    def revoke_refresh_tokens(self) -> int:
        revoked = len(self._refresh)
        self._refresh.clear()
        return revoked

    def valid_access_tokens(self) -> int:
        now = self.clock.now()
        return sum(1 for expires_at in self._access.values() if expires_at is None or expires_at > now)

    # -- the token endpoint ------------------------------------------------------------------------

    async def token_endpoint(self, request: Request) -> Response:
        try:
            grant = self._grant(request.headers, await request.body())
        except OAuthError as error:
            return error.response()
        return json_response(grant, 200, dict(_NO_STORE))

    def _grant(self, headers: Any, body: bytes) -> dict[str, Any]:
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "The body is not a valid form.") from None
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "The grant_type parameter is required.")
        self._authenticate_client(headers.get("authorization"), form)
        if grant_type != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", "Only the refresh_token grant is supported.")
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise OAuthError(400, "invalid_request", "The refresh_token parameter is required.")
        if refresh_token not in self._refresh:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid or expired.")
        if self.settings.rotate_refresh_tokens:
            self._refresh.discard(refresh_token)
            refresh_token = secrets.token_urlsafe(32)
            self._refresh.add(refresh_token)
        access_token = secrets.token_urlsafe(32)
        lifetime = self.settings.access_token_lifetime_seconds
        self._access[access_token] = self.clock.now() + timedelta(seconds=lifetime)
        return {
            "token_type": "Bearer",
            "expires_in": int(lifetime),
            "access_token": access_token,
            "scope": _SCOPE,
            "refresh_token": refresh_token,
        }

    def _authenticate_client(self, authorization: str | None, form: dict[str, str]) -> None:
        basic = authorization is not None and authorization[:6].lower() == "basic "
        in_form = "client_id" in form or "client_secret" in form
        if basic and in_form:
            raise OAuthError(400, "invalid_request", "Use one client authentication method, not two.")
        if basic:
            assert authorization is not None
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(
                    401, "invalid_client", "Client authentication failed.", basic_challenge=True
                ) from None
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        elif in_form:
            client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            raise OAuthError(401, "invalid_client", "Client authentication is required.")
        expected_id, expected_secret = self.settings.client_id, self.settings.client_secret
        id_ok = secrets.compare_digest(client_id.encode(), expected_id.encode())
        secret_ok = secrets.compare_digest(client_secret.encode(), expected_secret.encode())
        if not (id_ok and secret_ok):
            raise OAuthError(401, "invalid_client", "Client authentication failed.", basic_challenge=basic)

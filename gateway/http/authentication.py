"""Who is calling: the ``Authorization: Bearer <credential>`` of a GraphQL request, verified.

A credential is a service key the gateway issued (``gateway keys create``) or an access token from
the configured OIDC issuer; each verifier answers only for its own kind.  The answers:

=====  ===========================  ==========================================================
401    UNAUTHENTICATED              no ``Authorization`` header, another scheme, or a credential
                                    no verifier accepts (unknown, malformed, expired, revoked,
                                    wrong issuer or audience, bad signature); with
                                    ``WWW-Authenticate: Bearer`` as RFC 6750 describes
503    DATABASE_ERROR /             the credential could not be checked (the gateway's database
       AUTHENTICATION_UNAVAILABLE   or the issuer's keys are unreachable): not the caller's fault,
                                    so not a 401 that would make a client drop a good credential
=====  ===========================  ==========================================================

Only the GraphQL endpoint authenticates; ``/healthz``, ``/readyz`` and the GraphiQL page stay open
(the page holds no data: its queries go to the endpoint, with the headers typed into it).  The
principal is also left in the ASGI scope (``PRINCIPAL_SCOPE_KEY``) for whatever logs the request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from gateway.core.principals import Principal, Scope
from gateway.core.store_ports import CredentialVerifier
from gateway.errors import GatewayError

from .rejections import RequestRejected
from .request_id import request_ids
from .responses import rejection_response

__all__ = ["PRINCIPAL_SCOPE_KEY", "Authenticator", "scope_guard", "unauthenticated"]

logger = logging.getLogger("gateway.auth")

PRINCIPAL_SCOPE_KEY = "gateway.principal"
_REALM = "deleted-contacts-gateway"


def unauthenticated(message: str, *, error: str | None = None) -> RequestRejected:
    """A 401; ``error`` is RFC 6750's code (``invalid_request``, ``invalid_token``), absent when the
    request simply carried no credential."""
    challenge = f'Bearer realm="{_REALM}"'
    if error is not None:
        challenge += f', error="{error}"'
    return RequestRejected(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": challenge})


class Authenticator:
    """``await authenticator(request)``: the request's principal, or :class:`RequestRejected`.

    ``verifiers`` is read per request (the application builds them when it starts).
    """

    def __init__(self, verifiers: Callable[[], Sequence[CredentialVerifier]], *, max_length: int) -> None:
        self._verifiers = verifiers
        self._max_length = max_length

    async def __call__(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header is None:
            raise unauthenticated(
                "Send a service key or an access token: Authorization: Bearer <credential>."
            )
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise unauthenticated(
                "Use the Bearer scheme: Authorization: Bearer <credential>.", error="invalid_request"
            )
        principal = None
        if len(credential) <= self._max_length:
            principal = await self._verify(credential)
        if principal is None:
            # Logged without the credential, so repeated failures are visible to an operator.
            logger.info("refused a credential request_id=%s", request_ids(request.scope).request_id)
            raise unauthenticated(
                "The credential is not valid (unknown, expired or revoked key; or a token refused).",
                error="invalid_token",
            )
        request.scope[PRINCIPAL_SCOPE_KEY] = principal
        return principal

    async def _verify(self, credential: str) -> Principal | None:
        for verifier in self._verifiers():
            try:
                principal = await verifier.verify(credential)
            except GatewayError as error:
                # Nothing about the credential is logged: only that it could not be checked.
                logger.error("a credential could not be checked: %s (%s)", error.message, error.code)
                raise RequestRejected(
                    503,
                    error.code,
                    "Credentials cannot be checked right now; try again shortly.",
                    {"Retry-After": "5"},
                ) from error
            if principal is not None:
                return principal
        return None


def scope_guard(
    authenticator: Authenticator, scope: Scope
) -> Callable[[Request], Awaitable[Response | None]]:
    """A guard for a plain HTTP route (``/metrics``): None when the request's credential holds
    ``scope``; else the 401 or 403 to answer, GraphQL-shaped like every other refusal."""

    async def guard(request: Request) -> Response | None:
        try:
            principal = await authenticator(request)
        except RequestRejected as rejection:
            return rejection_response(rejection, None)
        if principal.allows(scope):
            return None
        return rejection_response(
            RequestRejected(403, "FORBIDDEN", f"This needs the {scope.value} scope."), None
        )

    return guard

"""Request ids: the gateway's own, always generated, and the caller's, kept as a correlation id.

The gateway's id (``X-Request-ID`` on every response) names one request in the logs, in masked errors
and in the audit trail; it is always made here, because an id a caller chooses cannot identify
anything (two callers can send the same one).  A caller's own ``X-Request-ID``, when it is sane, is
kept as the *correlation id*: echoed as ``X-Correlation-ID``, logged and audited beside the gateway's.
An incoming id is only kept when it is short and made of URL-safe characters: anything else could
forge log lines (newlines) or bloat them, and is dropped rather than cleaned.

:class:`RequestIdMiddleware` assigns both ids to every HTTP request (so health checks and 404s carry
one too); :func:`request_ids` reads them, assigning them first when no middleware ran.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CORRELATION_ID_HEADER",
    "REQUEST_ID_HEADER",
    "RequestIdMiddleware",
    "RequestIds",
    "correlation_id_from",
    "new_request_id",
    "request_ids",
]

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"

_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")
_SCOPE_KEY = "gateway.request_ids"


@dataclass(frozen=True, slots=True)
class RequestIds:
    request_id: str
    """The gateway's own id for this request."""
    correlation_id: str | None
    """The caller's ``X-Request-ID``, when it sent a sane one."""


def new_request_id() -> str:
    return uuid.uuid4().hex


def correlation_id_from(incoming: str | None) -> str | None:
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return None


def request_ids(scope: Scope) -> RequestIds:
    """This request's ids, assigned once per ASGI scope."""
    ids: RequestIds | None = scope.get(_SCOPE_KEY)
    if ids is None:
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        ids = RequestIds(new_request_id(), correlation_id_from(incoming))
        scope[_SCOPE_KEY] = ids
    return ids


class RequestIdMiddleware:
    """Gives every HTTP request its ids and puts them on the response, whatever route answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids = request_ids(scope)

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = ids.request_id
                if ids.correlation_id is not None:
                    headers[CORRELATION_ID_HEADER] = ids.correlation_id
            await send(message)

        await self.app(scope, receive, send_with_ids)

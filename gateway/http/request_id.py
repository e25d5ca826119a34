"""The request id: taken from ``X-Request-ID`` when a caller (or a proxy) sent a sane one, else made up.

It is echoed in the response header, travels in the GraphQL context, appears in every log line about
the request and in masked errors, so one id ties a caller's complaint to the server's logs.  An
incoming id is only trusted when it is short and made of URL-safe characters: anything else could
forge log lines (newlines) or bloat them, and is replaced rather than cleaned.
"""

from __future__ import annotations

import re
import uuid

__all__ = ["REQUEST_ID_HEADER", "new_request_id", "request_id_from"]

REQUEST_ID_HEADER = "X-Request-ID"

_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(incoming: str | None) -> str:
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return new_request_id()

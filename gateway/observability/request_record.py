"""What one HTTP request did, gathered while it runs and read once it is answered.

The ASGI middleware opens a :class:`RequestRecord` per request and makes it the *current* one (a
context variable, so every task the request starts sees the same record).  The GraphQL extension
notes the operation, the response shaping notes the outcome and error codes, and the upstream
observer counts provider calls; the middleware then turns the record into metrics and one access
log line.  A context variable rather than an argument threaded through every layer: the record is
read-mostly bookkeeping, and the layers it crosses should not know it exists.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RequestRecord", "close_record", "current_record", "note_answer", "open_record"]


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    correlation_id: str | None
    operation_name: str | None = None
    """The executed operation's name, as the document gives it (None: anonymous or not reached)."""
    operation_type: str | None = None
    outcome: str | None = None
    """``ok``, ``partial`` (data and errors) or ``error``; None when no GraphQL body was sent."""
    error_codes: list[str] = field(default_factory=list)
    upstream_calls: int = 0
    """Provider calls made for this request (each JSON-RPC call of a batch counts)."""
    query_cost: int | None = None
    """What the request could cost upstream at worst (the schema's cost limit), once computed."""
    answer_reused: bool = False
    """Answered with an answer kept earlier (``ANSWER_CACHE``): nothing was resolved."""
    trace_id: str | None = None


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "gateway_request_record", default=None
)


def open_record(record: RequestRecord) -> contextvars.Token[RequestRecord | None]:
    """Make ``record`` the current one; pass the token to :func:`close_record`."""
    return _current.set(record)


def close_record(token: contextvars.Token[RequestRecord | None]) -> None:
    _current.reset(token)


def current_record() -> RequestRecord | None:
    """The record of the request this code runs for, if any (None at start-up, in the CLI...)."""
    return _current.get()


def note_answer(body: Mapping[str, Any]) -> None:
    """The request is answered with this GraphQL body: note its outcome and error codes."""
    record = _current.get()
    if record is None:
        return
    errors = body.get("errors") or ()
    if not errors:
        record.outcome = "ok"
    else:
        record.outcome = "partial" if body.get("data") is not None else "error"
        record.error_codes = [_code(error) for error in errors]


def _code(error: Any) -> str:
    extensions = error.get("extensions") if isinstance(error, Mapping) else None
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return code if isinstance(code, str) else "NONE"

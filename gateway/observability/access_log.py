"""The access line: one per HTTP request, written once it is answered (logger ``gateway.access``).

Fields: method, path (never the query string: a GET's variables may hold addresses), status,
duration in milliseconds, GraphQL operation name, principal (``kind:id``, ``-`` when none was
authenticated), request id, correlation id, upstream calls made and, with tracing on, trace id.
The JSON format carries them as keys; the text format as ``key=value`` after a summary.
"""

from __future__ import annotations

import logging

from gateway.core.principals import Principal

from .request_record import RequestRecord

__all__ = ["ACCESS_LOGGER", "PRINCIPAL_SCOPE_KEY", "log_access", "principal_label"]

ACCESS_LOGGER = logging.getLogger("gateway.access")
PRINCIPAL_SCOPE_KEY = "gateway.principal"


def principal_label(principal: object) -> str:
    """``kind:id`` of an authenticated principal, ``-`` for anything else (none, not yet known)."""
    if isinstance(principal, Principal):
        return f"{principal.kind.value}:{principal.id}"
    return "-"


def log_access(
    record: RequestRecord, *, method: str, path: str, status: int, seconds: float, principal: str
) -> None:
    if not ACCESS_LOGGER.isEnabledFor(logging.INFO):
        return
    fields: dict[str, object] = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "operation": record.operation_name or "-",
        "principal": principal,
        "request_id": record.request_id,
        "correlation_id": record.correlation_id or "-",
        "upstream_calls": record.upstream_calls,
        "query_cost": record.query_cost if record.query_cost is not None else "-",
        "answer_reused": record.answer_reused,
    }
    if record.trace_id is not None:
        fields["trace_id"] = record.trace_id
    rest = " ".join(f"{key}={value}" for key, value in fields.items() if key not in _IN_SUMMARY)
    ACCESS_LOGGER.info("%s %s %s %s", method, path, status, rest, extra={"fields": fields})


_IN_SUMMARY = frozenset({"method", "path", "status"})

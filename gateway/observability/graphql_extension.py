"""A Strawberry extension noting which operation a request executes (and tracing it).

It runs on every request whose document passed validation (``on_execute``), with the speed layer on
or off: the operation's name and type go into the request's record, for metrics and the access
line, and with tracing on the execution runs inside an operation span.  Nothing per field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext

from strawberry.extensions import SchemaExtension

from .request_record import current_record
from .tracing import Tracing

__all__ = ["operation_observer"]


class _OperationObserver(SchemaExtension):
    def __init__(self, tracing: Tracing | None) -> None:
        super().__init__()
        self.tracing = tracing

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        name = context.operation_name
        try:
            kind = context.operation_type.value
        except Exception:  # no operation to name: validation reports it, not this bookkeeping
            kind = "unknown"
        record = current_record()
        if record is not None:
            record.operation_name = name
            record.operation_type = kind
        span = self.tracing.operation_span(name, kind) if self.tracing is not None else nullcontext()
        with span:
            yield
        if record is not None:
            # Set by the cost limit, which runs before this extension (read by name: no schema import).
            record.query_cost = getattr(context.context, "query_cost", None)
            record.answer_reused = bool(getattr(context.context, "answer_reused", False))


def operation_observer(tracing: Tracing | None) -> Callable[[], SchemaExtension]:
    """The extension factory for ``build_schema(extensions=...)``, tracing with ``tracing`` if given."""
    return lambda: _OperationObserver(tracing)

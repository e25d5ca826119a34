"""The deadline of the request being served, as a context variable every upstream call can read.

The HTTP endpoint opens :func:`request_deadline` around the execution of each GraphQL request; every
task started while it is open (DataLoader batches, shared listings, provider fan-out) copies the
context and so sees the same deadline.  Provider calls read :func:`remaining_seconds` to cap each
attempt's timeout and to refuse a retry that cannot finish in time, so that one slow provider cannot
hold a request longer than the deadline, whatever its timeouts and retry policy would allow.

Outside a request (the CLI, tests of a client alone) there is no deadline and nothing is capped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["remaining_seconds", "request_deadline"]

# The monotonic time by which the current request must be answered, or None outside any request.
_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


@contextlib.contextmanager
def request_deadline(seconds: float | None) -> Iterator[None]:
    """Within this block, upstream work must be over ``seconds`` from now (None: no deadline)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left before the current request's deadline (at most 0 once passed), or None."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()

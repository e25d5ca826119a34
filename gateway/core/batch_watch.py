"""The seam through which DataLoader batches can be watched (traced), one span per batch, not per key.

The application hands a :class:`BatchWatch` to the services (``Services.batch_watch``; the tracing
of ``gateway.observability`` is one); without one, batch functions run unwrapped.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

__all__ = ["BatchWatch"]


class BatchWatch(Protocol):
    def batch_span(self, loader: str, keys: int) -> AbstractContextManager[None]:
        """Entered around one batch of ``keys`` keys of the loader named ``loader``."""
        ...

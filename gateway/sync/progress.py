"""Progress of a long full read (a backfill of a big account takes minutes), told at most once per
``every`` seconds per provider: ``gateway sync`` prints it, ``gateway serve`` logs it."""

from __future__ import annotations

import time
from collections.abc import Callable

from .runner import SyncProgress

__all__ = ["ProgressLines"]


class ProgressLines:
    def __init__(
        self, every: float, emit: Callable[[str], None], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every
        self._emit = emit
        self._clock = clock
        self._last: dict[str, float] = {}

    def __call__(self, progress: SyncProgress) -> None:
        now = self._clock()
        name = progress.provider.value
        if now - self._last.get(name, float("-inf")) < self._every:
            return
        self._last[name] = now
        rate = progress.contacts / progress.seconds if progress.seconds > 0 else 0.0
        self._emit(
            f"sync {name} {progress.kind.value}: {progress.contacts} contacts, {progress.requests} requests, "
            f"{progress.seconds:.0f} s ({rate:.0f}/s)"
        )

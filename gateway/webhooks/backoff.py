"""When a failed delivery is tried again: exponential backoff with full jitter, within a retry window.

The n-th failure waits a random time up to ``min(max_seconds, base_seconds * 2**(n-1))`` (full jitter:
receivers coming back after an outage are not hit by every queued delivery at once).  A retry that
would fall after ``window_seconds`` from the delivery's first attempt is not made: the delivery is
dead-lettered instead.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    window_seconds: float
    base_seconds: float
    max_seconds: float
    jitter: Callable[[], float] = field(default=random.random)
    """A number in [0, 1): the share of the capped backoff to wait (tests fix it)."""

    def delay(self, failures: int) -> float:
        cap = min(self.max_seconds, self.base_seconds * float(2 ** max(0, failures - 1)))
        return cap * self.jitter()

    def next_attempt(self, failures: int, first_attempt_at: datetime, now: datetime) -> datetime | None:
        """When to try again after ``failures`` failed attempts; None: give up."""
        moment = now + timedelta(seconds=self.delay(failures))
        if moment > first_attempt_at + timedelta(seconds=self.window_seconds):
            return None
        return moment

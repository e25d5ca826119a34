"""What a provider client asks before each upstream call: "may this call go out, and when?"

A :class:`CallAllowance` charges one call against the token's daily quota (or refuses it with
``RateLimited(kind="quota_exceeded")``) and then waits for the token's next per-second slot.  The client
receives one at construction and never learns where the counting happens:

- :class:`ProcessAllowance` counts in this process (a :class:`~gateway.providers.resilience.DailyBudget`
  and a :class:`~gateway.providers.resilience.TokenBucket`): right for one replica, but N replicas
  sharing a token may together send N times the rate;
- :class:`~gateway.providers.shared_allowance.RedisAllowance` counts in Redis, atomically, for every
  replica that uses the same token.

Readiness and metrics read ``remaining``, ``limit`` and ``reset_at`` synchronously, so every
implementation keeps an up-to-date view of them in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from gateway.core.model import Provider

from .errors import RateLimited
from .resilience import DailyBudget, TokenBucket

__all__ = ["CallAllowance", "ProcessAllowance"]


class CallAllowance(Protocol):
    """The per-token rate and daily quota of one provider, as its client sees them."""

    @property
    def rate(self) -> float:
        """Calls per second the token may make."""
        ...

    @property
    def limit(self) -> int:
        """Calls per UTC day the token may make."""
        ...

    @property
    def remaining(self) -> int:
        """Calls left today, as last known (readiness and metrics read it)."""
        ...

    @property
    def reset_at(self) -> datetime:
        """When the daily quota starts again."""
        ...

    async def admit(self) -> None:
        """Charge one call to today's quota, then wait for its slot.

        Raises ``RateLimited(kind="quota_exceeded")``, without waiting, when the quota is spent.
        """
        ...

    def mark_exhausted(self) -> None:
        """The provider said the quota is spent: believe it until the reset."""
        ...

    def exhausted_error(self) -> RateLimited:
        """The error a call refused for a spent quota raises."""
        ...


class ProcessAllowance:
    """The rate and the quota counted in this process only."""

    def __init__(
        self,
        provider: Provider,
        *,
        rate_per_second: float,
        daily_quota: int,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # No burst: a token's provider-side bucket may already be partly drained by another client.
        self.bucket = TokenBucket(rate_per_second, burst=1, clock=clock, sleep=sleep)
        self.budget = DailyBudget(provider, daily_quota, now=now)

    @property
    def rate(self) -> float:
        return self.bucket.rate

    @property
    def limit(self) -> int:
        return self.budget.limit

    @property
    def remaining(self) -> int:
        return self.budget.remaining

    @property
    def reset_at(self) -> datetime:
        return self.budget.reset_at

    async def admit(self) -> None:
        self.budget.consume()
        await self.bucket.acquire()

    def mark_exhausted(self) -> None:
        self.budget.mark_exhausted()

    def exhausted_error(self) -> RateLimited:
        return self.budget.exhausted_error()

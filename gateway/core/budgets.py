"""What each principal may spend: a request rate and a daily share of upstream work.

Every GraphQL request is charged to its principal before it runs (``gateway.schema.cost`` computes
what it may cost upstream):

- **rate**: at most ``requests_per_minute`` requests per calendar minute (UTC);
- **daily cost**: the costs of a principal's requests in one UTC day add up to at most
  ``daily_cost``.  Reads may use that budget only up to ``1 - write_reserve`` of it, so a principal
  that reads all day still has the reserve left for its deletes and restores.

A request over either is refused (``RATE_LIMITED``, with ``retryAfter``: seconds to the next minute
or day) before anything is sent upstream, and a refused request is not charged.  A service key may
carry its own limits (``gateway keys create --requests-per-minute N --daily-cost N``); every other
principal has the settings' defaults.

The counters live in a :class:`BudgetCounter`: Redis when configured, shared by every replica; this
process's memory otherwise (one gateway process, or limits per process: the README says so).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import RateLimitExceeded

from .principals import Principal

__all__ = ["BudgetCounter", "BudgetPolicy", "MemoryBudgetCounter", "PrincipalBudgets", "RedisBudgetCounter"]

logger = logging.getLogger("gateway.budgets")

_MINUTE = 60
_DAY = 86_400


class BudgetCounter(Protocol):
    async def add(self, key: str, amount: int, *, expires_in: int) -> int:
        """Add ``amount`` (negative: give back) to ``key`` atomically; its new value.  A new key
        lives ``expires_in`` seconds."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    requests_per_minute: int
    daily_cost: int
    write_reserve: float
    """The fraction of ``daily_cost`` only mutations may use."""


class PrincipalBudgets:
    def __init__(
        self, counter: BudgetCounter, defaults: BudgetPolicy, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._counter = counter
        self._defaults = defaults
        self._clock = clock

    def policy_for(self, principal: Principal) -> BudgetPolicy:
        limits = principal.limits
        if limits is None:
            return self._defaults
        return BudgetPolicy(
            requests_per_minute=limits.requests_per_minute or self._defaults.requests_per_minute,
            daily_cost=limits.daily_cost or self._defaults.daily_cost,
            write_reserve=self._defaults.write_reserve,
        )

    async def aclose(self) -> None:
        await self._counter.aclose()

    async def charge(self, principal: Principal, cost: int, *, write: bool) -> None:
        """Charge one request of ``cost``; raises :class:`RateLimitExceeded` (nothing charged) when
        the principal's rate or daily cost would be exceeded."""
        policy = self.policy_for(principal)
        now = self._clock()
        minute, day = int(now // _MINUTE), int(now // _DAY)
        who = principal.scope_key
        rate_key = f"rate:{who}:{minute}"
        if await self._counter.add(rate_key, 1, expires_in=_MINUTE * 2) > policy.requests_per_minute:
            await self._counter.add(rate_key, -1, expires_in=_MINUTE * 2)
            raise RateLimitExceeded(
                f"more than {policy.requests_per_minute} requests in a minute",
                retry_after=math.ceil((minute + 1) * _MINUTE - now),
            )
        if cost <= 0:
            return
        cap = policy.daily_cost if write else math.floor(policy.daily_cost * (1 - policy.write_reserve))
        cost_key = f"cost:{who}:{day}"
        if await self._counter.add(cost_key, cost, expires_in=_DAY * 2) > cap:
            await self._counter.add(cost_key, -cost, expires_in=_DAY * 2)
            kind = "mutation" if write else "read (part of the budget is kept for mutations)"
            raise RateLimitExceeded(
                f"this {kind} of cost {cost} would go past today's budget of {cap}",
                retry_after=math.ceil((day + 1) * _DAY - now),
            )


class MemoryBudgetCounter:
    """Counters in this process (one event loop, so each add is atomic)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._clock = clock

    async def add(self, key: str, amount: int, *, expires_in: int) -> int:
        now = self._clock()
        if len(self._values) > 10_000:  # drop expired keys now and then: windows end, keys pile up
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
        value, expires = self._values.get(key, (0, now + expires_in))
        if expires <= now:
            value, expires = 0, now + expires_in
        value += amount
        self._values[key] = (value, expires)
        return value

    async def aclose(self) -> None:
        self._values.clear()


class RedisBudgetCounter:
    """Counters in Redis, shared by every replica: INCRBY, and EXPIRE on a new key, in one pipeline
    transaction (MULTI/EXEC), so concurrent replicas never lose an increment.

    While Redis cannot be reached, this process counts alone (logged): limits hold per process
    rather than every request failing.
    """

    def __init__(self, url: str, *, prefix: str = "gateway:budget:") -> None:
        import redis.asyncio as redis  # imported lazily: only deployments that configure Redis need it

        self._redis = redis.from_url(url)
        self._prefix = prefix
        self._fallback = MemoryBudgetCounter()

    async def add(self, key: str, amount: int, *, expires_in: int) -> int:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(name, amount)
                pipe.expire(name, expires_in, nx=True)
                value, _ = await pipe.execute()
        except Exception as error:  # the client's errors, sockets, timeouts: Redis is not there now
            logger.warning(
                "Redis unreachable, budgets counted in this process only: %s", type(error).__name__
            )
            return await self._fallback.add(key, amount, expires_in=expires_in)
        return int(value)

    async def aclose(self) -> None:
        await self._redis.aclose()

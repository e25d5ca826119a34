"""A provider token's rate and daily quota counted in Redis, shared by every replica using the token.

One Lua script does the whole decision atomically inside Redis (scripts run one at a time there), so
two replicas can never both read "one call left" and both send it:

1. refuse if today's count has reached the quota, else count this call;
2. reserve the token's next free slot, one ``1 / rate`` interval after the last reserved one (or now,
   if that is later), on *Redis's* clock so that replicas whose clocks disagree still space their
   calls correctly; the caller then sleeps until its slot.

Keys are named by a hash of the token, never the token itself; they expire on their own (the day's
count after two days, the slot shortly after it passes).

If Redis cannot be reached when a call is admitted, the call is admitted by this process's own
:class:`~gateway.providers.allowance.ProcessAllowance` instead, with a logged warning: the gateway
keeps serving at a per-process rate rather than failing every call with an internal error.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from gateway.core.model import Provider

from .allowance import ProcessAllowance
from .errors import RateLimited
from .resilience import quota_exhausted

__all__ = ["RedisAllowance", "token_key_prefix"]

logger = logging.getLogger(__name__)

# Returns {microseconds to wait for the slot, calls left today}, or {-1, 0} when the quota is spent.
_ADMIT = """
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= limit then return {-1, 0} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(last + tonumber(ARGV[2]), now)
redis.call('SET', KEYS[2], string.format('%.0f', slot), 'PX', math.floor((slot - now) / 1000) + 60000)
return {slot - now, limit - used}
"""

# The day's count is kept two days: long enough to outlive the day whatever the replicas' clocks say.
_DAY_KEY_SECONDS = 2 * 86_400


def token_key_prefix(provider: Provider, token: str) -> str:
    """The prefix of a token's keys: the provider and a digest of the token (the token is a secret)."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return f"gateway:allowance:{provider.value}:{{{digest}}}"


class RedisAllowance:
    """A :class:`~gateway.providers.allowance.CallAllowance` shared through Redis by every replica.

    ``fallback`` admits calls while Redis does not answer.  ``now`` names the UTC day whose count a
    call is charged to; ``sleep`` waits for the slot (tests hand in fakes).
    """

    def __init__(
        self,
        url: str,
        provider: Provider,
        token: str,
        *,
        rate_per_second: float,
        daily_quota: int,
        redis_timeout: float,
        fallback: ProcessAllowance | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        import redis.asyncio as redis  # imported lazily: only deployments that configure Redis need it

        if rate_per_second <= 0:
            raise ValueError("rate must be positive")
        self.provider = provider
        self._rate = rate_per_second
        self._limit = daily_quota
        self._interval_us = round(1_000_000 / rate_per_second)
        self._timeout = redis_timeout
        self._now = now
        self._sleep = sleep
        self._prefix = token_key_prefix(provider, token)
        self._redis = redis.from_url(url, socket_timeout=redis_timeout, socket_connect_timeout=redis_timeout)
        self._admit_script = self._redis.register_script(_ADMIT)
        self.fallback = fallback or ProcessAllowance(
            provider, rate_per_second=rate_per_second, daily_quota=daily_quota, now=now, sleep=sleep
        )
        self.degraded = False
        self._known_day = now().date()
        self._known_remaining = daily_quota
        # The day the provider itself said the quota was spent: refused here without asking Redis.
        self._exhausted_day: date | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def _day_key(self, day: date) -> str:
        return f"{self._prefix}:day:{day.isoformat()}"

    @property
    def _rate_key(self) -> str:
        return f"{self._prefix}:slot"

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def remaining(self) -> int:
        if self.degraded:
            return self.fallback.remaining
        today = self._now().date()
        if self._exhausted_day == today:
            return 0
        if today != self._known_day:
            return self._limit  # a new day: nothing of it is known to be spent
        return self._known_remaining

    @property
    def reset_at(self) -> datetime:
        today = self._now().date()
        return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def exhausted_error(self) -> RateLimited:
        return quota_exhausted(self.provider, self.reset_at, self._now())

    async def admit(self) -> None:
        day = self._now().date()
        if self._exhausted_day == day:
            raise self.exhausted_error()
        try:
            async with asyncio.timeout(self._timeout):
                wait_us, remaining = await self._admit_script(
                    keys=[self._day_key(day), self._rate_key],
                    args=[self._limit, self._interval_us, _DAY_KEY_SECONDS],
                )
        except (OSError, TimeoutError, _redis_error()) as error:
            self._degrade(error)
            await self.fallback.admit()
            return
        if self.degraded:
            self.degraded = False
            logger.warning("%s allowance: Redis answers again; the rate is shared again", self.provider.value)
        self._known_day = day
        self._known_remaining = int(remaining)
        if int(wait_us) < 0:
            raise self.exhausted_error()
        if wait_us > 0:
            await self._sleep(int(wait_us) / 1_000_000)

    def _degrade(self, error: BaseException) -> None:
        # Once per outage: a warning per call would flood the log exactly when Redis is in trouble.
        if not self.degraded:
            self.degraded = True
            logger.warning(
                "%s allowance: Redis cannot be reached (%s); counting the rate and quota in this "
                "process until it answers again",
                self.provider.value,
                type(error).__name__,
            )

    def mark_exhausted(self) -> None:
        """Believe the provider's "quota spent" here at once, and tell the other replicas through Redis
        in the background (this is called while an error answer is being read, outside any await)."""
        self._exhausted_day = self._now().date()
        self.fallback.mark_exhausted()
        task = asyncio.get_running_loop().create_task(self._mark_shared(self._exhausted_day))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _mark_shared(self, day: date) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self._day_key(day), self._limit, ex=_DAY_KEY_SECONDS)
        except (OSError, TimeoutError, _redis_error()) as error:
            self._degrade(error)

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._redis.aclose()


def _redis_error() -> type[Exception]:
    import redis

    return redis.RedisError

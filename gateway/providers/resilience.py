"""How provider calls survive the real world: timeouts, retries, circuit breaking, rate limiting.

Every provider client funnels each upstream HTTP exchange through :func:`call_with_retries`:

- the attempt runs under the per-provider total timeout (:class:`Timeouts`);
- failures of the *request* (timeouts, dropped connections, 5xx, malformed bodies) and ``throttled``
  429s are retried with capped exponential backoff and equal jitter, honouring ``Retry-After``, but only
  when the caller says the call is idempotent, and only while the per-request retry budget lasts;
- the request's deadline (:mod:`gateway.core.deadlines`), when there is one, caps each attempt's
  timeout and refuses a retry whose wait would outlast it: the call then ends in
  :class:`~gateway.providers.errors.ProviderTimeout` in time for the request to answer with what the
  other providers found;
- the provider's :class:`CircuitBreaker` opens after repeated request failures and then fails calls fast
  with :class:`~gateway.providers.errors.CircuitOpen` until it half-opens and a probe succeeds.

:class:`TokenBucket` spaces calls so the provider's per-second limit is never hit, and
:class:`DailyBudget` tracks a daily quota so the gateway can report what is left and fail fast when
it is spent.  Both are shared by every request that uses the same credentials.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

import httpx

from gateway.core.deadlines import remaining_seconds
from gateway.core.model import Provider

from .errors import (
    AuthenticationFailed,
    CircuitOpen,
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "DailyBudget",
    "RetryPolicy",
    "RetryStats",
    "Timeouts",
    "TokenBucket",
    "call_with_retries",
    "fits_before_deadline",
    "is_retryable",
    "quota_exhausted",
    "transport_error",
]

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-provider timeouts in seconds. ``total`` bounds one attempt from first byte out to last byte in."""

    connect: float = 3.0
    read: float = 10.0
    total: float = 15.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.read, pool=self.connect)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with equal jitter, bounded by attempts and by a time budget.

    Retry ``n`` waits a random time in ``[ceiling / 2, ceiling]`` where ``ceiling`` is
    ``min(max_delay, base_delay * 2 ** (n - 1))``: half the backoff is kept so that retries never bunch
    up at zero, half is spread so that concurrent callers do not retry in step.

    ``budget`` is the most time one logical call may spend *sleeping* between attempts; a
    ``Retry-After`` longer than what is left of it ends the retries at once.
    """

    max_attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 2.0
    budget: float = 5.0

    def delay(self, retry_number: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass(slots=True)
class RetryStats:
    """Counters a client keeps across calls; tests assert on them."""

    attempts: int = 0
    retries: int = 0


class CircuitBreaker:
    """Consecutive-failure breaker: closed -> open after ``failure_threshold`` request failures,
    open -> half_open after ``reset_timeout`` seconds, half_open -> closed on one success (or back to
    open on one failure).  Only one probe runs while half-open; other calls fail fast."""

    def __init__(
        self,
        provider: Provider,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._rejected_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_timeout:
            return "half_open"
        return self._state

    @property
    def credentials_rejected(self) -> bool:
        """The provider refused the gateway's credentials, less than ``reset_timeout`` ago and with
        no success since.  Readiness reports it; like an open circuit it lapses after the timeout, so
        that a replica taken out of rotation gets traffic again to find out whether it was fixed."""
        return self._rejected_at is not None and self._clock() - self._rejected_at < self.reset_timeout

    def record_rejected_credentials(self) -> None:
        self._rejected_at = self._clock()

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` unless a call may go out now."""
        state = self.state
        if state == "closed":
            return
        if state == "half_open" and not self._probe_in_flight:
            self._state = "half_open"
            self._probe_in_flight = True
            return
        remaining = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
        raise CircuitOpen(
            "circuit open after repeated failures; failing fast",
            provider=self.provider,
            retry_after=round(remaining, 3) if state == "open" else None,
        )

    def record_success(self) -> None:
        self._state = "closed"
        self._failures = 0
        self._probe_in_flight = False
        self._rejected_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == "half_open" or self._failures >= self.failure_threshold:
            self._state = "open"
            self._opened_at = self._clock()
        self._probe_in_flight = False

    def release_probe(self) -> None:
        """The probe ended without telling us anything about the provider's health (e.g. a 404)."""
        if self._state == "half_open":
            self.record_success()

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "consecutive_failures": self._failures}

    def problems(self) -> list[str]:
        """Why calls to the provider cannot succeed now, as far as its answers tell."""
        found = []
        if self.state == "open":
            found.append("circuit open after repeated failures")
        if self.credentials_rejected:
            found.append("credentials rejected by the provider")
        return found


class TokenBucket:
    """Async rate limiter: at most ``rate`` acquisitions per second on average, bursts up to ``burst``.

    Callers reserve their slot in arrival order, so concurrent callers are served fairly and the
    sustained rate is exact (no thundering herd after a sleep).
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate
        # The earliest time at which a full bucket would have been drained by reservations so far.
        self._next_free = clock() - self.burst * self._interval

    def reserve(self) -> float:
        """Reserve the next slot and return how long to wait for it (seconds, >= 0)."""
        now = self._clock()
        earliest = now - (self.burst - 1) * self._interval
        slot = max(self._next_free + self._interval, earliest)
        self._next_free = slot
        return max(0.0, slot - now)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)


def quota_exhausted(provider: Provider, reset_at: datetime, now: datetime) -> RateLimited:
    """The error of a spent daily quota: retry once it resets."""
    return RateLimited(
        "daily request quota exhausted",
        provider=provider,
        kind="quota_exceeded",
        retry_after=max(0.0, (reset_at - now).total_seconds()),
        reset_at=reset_at,
    )


class DailyBudget:
    """Counts calls against a daily quota that resets at 00:00 UTC (Constant Contact's rule)."""

    def __init__(
        self, provider: Provider, limit: int, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.provider = provider
        self.limit = limit
        self._now = now
        self._day = now().date()
        self._used = 0

    def _roll(self) -> None:
        today = self._now().date()
        if today != self._day:
            self._day = today
            self._used = 0

    @property
    def remaining(self) -> int:
        self._roll()
        return max(0, self.limit - self._used)

    @property
    def reset_at(self) -> datetime:
        self._roll()
        return datetime.combine(self._day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def consume(self) -> None:
        """Count one call, or raise ``RateLimited(kind="quota_exceeded")`` if none is left."""
        if self.remaining <= 0:
            raise self.exhausted_error()
        self._used += 1

    def mark_exhausted(self) -> None:
        """The provider said the quota is spent; believe it until the reset."""
        self._roll()
        self._used = max(self._used, self.limit)

    def exhausted_error(self) -> RateLimited:
        return quota_exhausted(self.provider, self.reset_at, self._now())


def is_retryable(error: ProviderError) -> bool:
    """Failures worth another attempt of an idempotent call."""
    if isinstance(error, CircuitOpen):
        return False
    if isinstance(error, RateLimited):
        return error.kind == "throttled"
    return isinstance(error, ProviderRequestError)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    provider: Provider,
    policy: RetryPolicy,
    breaker: CircuitBreaker,
    idempotent: bool,
    total_timeout: float | None = None,
    stats: RetryStats | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``attempt`` (one HTTP exchange that raises ``ProviderError`` subclasses) resiliently.

    Non-idempotent calls get exactly one attempt whatever happens: retrying ``add_contact`` or a bulk
    activity creation after a timeout could do the work twice.
    """
    rng = rng or random.Random()
    slept = 0.0
    number = 0
    while True:
        number += 1
        left = remaining_seconds()
        if left is not None and left <= 0:
            raise ProviderTimeout("the request's deadline passed before the call", provider=provider)
        breaker.before_call()
        if stats is not None:
            stats.attempts += 1
        # The request's deadline, when nearer than the provider's own timeout, bounds this attempt.
        cut_by_deadline = left is not None and (total_timeout is None or left < total_timeout)
        limit = left if cut_by_deadline else total_timeout
        try:
            if limit is None:
                result = await attempt()
            else:
                async with asyncio.timeout(limit):
                    result = await attempt()
        except TimeoutError:
            error: ProviderError = ProviderTimeout(
                "no complete answer within the request's deadline"
                if cut_by_deadline
                else f"no complete answer within {total_timeout:g}s",
                provider=provider,
            )
        except ProviderError as exc:
            error = exc
        except BaseException:
            breaker.release_probe()
            raise
        else:
            breaker.record_success()
            return result

        if isinstance(error, AuthenticationFailed):
            breaker.record_rejected_credentials()
        if cut_by_deadline and isinstance(error, ProviderTimeout):
            # Our deadline, not the provider's full timeout, ended the attempt: no verdict on its health.
            breaker.release_probe()
        elif isinstance(error, ProviderRequestError) and not isinstance(error, CircuitOpen):
            breaker.record_failure()
        elif not isinstance(error, RateLimited):
            breaker.release_probe()  # a 4xx answer proves the provider is up

        retry_after = getattr(error, "retry_after", None)
        if not idempotent or not is_retryable(error) or number >= policy.max_attempts:
            raise error
        delay = policy.delay(number, retry_after, rng)
        if slept + delay > policy.budget or not fits_before_deadline(delay):
            raise error
        slept += delay
        if stats is not None:
            stats.retries += 1
        await sleep(delay)


def fits_before_deadline(delay: float) -> bool:
    """Whether waiting ``delay`` seconds still leaves the request time for another attempt."""
    left = remaining_seconds()
    return left is None or delay < left


def transport_error(provider: Provider, exc: httpx.TransportError) -> ProviderRequestError:
    """Map an httpx transport failure to our hierarchy without echoing URLs or headers."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"upstream timed out ({type(exc).__name__})", provider=provider)
    return ProviderUnavailable(f"upstream connection failed ({type(exc).__name__})", provider=provider)

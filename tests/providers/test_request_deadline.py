"""The request's deadline bounds ``call_with_retries``: each attempt's timeout and every retry's wait.

Attempts fail or hang on purpose; sleeps between retries are recorded, not waited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from gateway.core.deadlines import remaining_seconds, request_deadline
from gateway.core.model import Provider
from gateway.providers.errors import ProviderTimeout, ProviderUnavailable
from gateway.providers.resilience import CircuitBreaker, RetryPolicy, RetryStats, call_with_retries

PROVIDER = Provider.GETRESPONSE
# Each retry waits at least two seconds: more than a one-second deadline leaves.
SLOW_RETRIES = RetryPolicy(max_attempts=3, base_delay=4.0, max_delay=4.0, budget=60.0)


async def _no_wait(delay: float) -> None:
    return None


async def _always_unavailable() -> None:
    raise ProviderUnavailable("down", provider=PROVIDER)


async def _hang() -> None:
    await asyncio.Event().wait()


async def _call(attempt: Callable[[], Awaitable[None]], stats: RetryStats, breaker: CircuitBreaker) -> None:
    await call_with_retries(
        attempt,
        provider=PROVIDER,
        policy=SLOW_RETRIES,
        breaker=breaker,
        idempotent=True,
        stats=stats,
        sleep=_no_wait,
    )


async def test_without_a_deadline_every_retry_is_made() -> None:
    stats = RetryStats()
    with pytest.raises(ProviderUnavailable):
        await _call(_always_unavailable, stats, CircuitBreaker(PROVIDER))
    assert stats.attempts == 3


async def test_a_retry_whose_wait_outlasts_the_deadline_is_not_made() -> None:
    stats = RetryStats()
    with request_deadline(1.0), pytest.raises(ProviderUnavailable):
        await _call(_always_unavailable, stats, CircuitBreaker(PROVIDER))
    assert (stats.attempts, stats.retries) == (1, 0)


async def test_the_deadline_cuts_an_attempt_short_without_counting_against_the_provider() -> None:
    stats, breaker = RetryStats(), CircuitBreaker(PROVIDER)
    with request_deadline(0.2), pytest.raises(ProviderTimeout) as timed_out:
        await _call(_hang, stats, breaker)
    assert "deadline" in timed_out.value.message
    assert stats.attempts == 1
    assert breaker.consecutive_failures == 0


async def test_a_passed_deadline_sends_nothing() -> None:
    stats = RetryStats()
    with request_deadline(0.0), pytest.raises(ProviderTimeout):
        await _call(_always_unavailable, stats, CircuitBreaker(PROVIDER))
    assert stats.attempts == 0


def test_the_deadline_is_only_there_inside_its_block() -> None:
    assert remaining_seconds() is None
    with request_deadline(5.0):
        left = remaining_seconds()
        assert left is not None and 0 < left <= 5.0
        with request_deadline(None):
            assert remaining_seconds() is None
    assert remaining_seconds() is None

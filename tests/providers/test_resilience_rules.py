"""The rules of ``gateway.providers.resilience`` pinned with a fake clock, a fake sleep and a fake rng.

Nothing here waits or reads the wall clock: every admission time, wait, quota reset and retry is
computed from injected time, so the numbers are exact and a loaded machine cannot change them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.model import Provider
from gateway.providers.errors import (
    AuthenticationFailed,
    CircuitOpen,
    Conflict,
    Forbidden,
    InvalidUpstreamResponse,
    NotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    ValidationFailed,
)
from gateway.providers.resilience import (
    CircuitBreaker,
    DailyBudget,
    RetryPolicy,
    RetryStats,
    TokenBucket,
    call_with_retries,
)

P = Provider.CONSTANT_CONTACT


class FakeClock:
    """Monotonic time that moves only when a test moves it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordedSleeps(list[float]):
    """An ``asyncio.sleep`` stand-in that records each wait and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


class EdgeRng(random.Random):
    """``uniform`` answers one end of its range and records the range asked for."""

    def __init__(self, end: str) -> None:
        super().__init__(0)
        self.end = end
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return a if self.end == "low" else b


# -- TokenBucket ---------------------------------------------------------------------------------------


def _admissions(bucket: TokenBucket, clock: FakeClock, count: int) -> list[float]:
    """When each of ``count`` callers arriving now would go out (reservation time plus its wait)."""
    return [clock() + bucket.reserve() for _ in range(count)]


def _most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of admissions inside any half-open interval ``[t, t + window)``."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t <= u < t + window - 1e-9) for t in ordered)


def test_a_fresh_bucket_admits_exactly_one_then_spaces_at_the_rate() -> None:
    clock = FakeClock(100.0)
    bucket = TokenBucket(4.0, clock=clock)
    assert _admissions(bucket, clock, 6) == pytest.approx([100.0, 100.25, 100.5, 100.75, 101.0, 101.25])


@pytest.mark.parametrize("idle", [0.25, 1.0, 3600.0])
def test_after_an_idle_spell_burst_one_admits_one_at_once_not_two(idle: float) -> None:
    clock = FakeClock(0.0)
    bucket = TokenBucket(4.0, burst=1, clock=clock)
    bucket.reserve()
    clock.advance(idle)
    waits = [bucket.reserve() for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.25, 0.5])  # the second caller waits a full interval


@pytest.mark.parametrize(("rate", "burst"), [(4.0, 1), (4.0, 4), (10.0, 3), (50.0, 3)])
def test_after_an_idle_spell_exactly_burst_go_out_at_once(rate: float, burst: int) -> None:
    clock = FakeClock(0.0)
    bucket = TokenBucket(rate, burst=burst, clock=clock)
    _admissions(bucket, clock, 20)  # drain it
    clock.advance(1000.0)
    waits = [bucket.reserve() for _ in range(burst + 2)]
    assert waits[:burst] == [0.0] * burst
    assert waits[burst] == pytest.approx(1.0 / rate)
    assert waits[burst + 1] == pytest.approx(2.0 / rate)


@pytest.mark.parametrize(("rate", "burst"), [(4.0, 1), (4.0, 4), (10.0, 3)])
def test_no_window_of_one_second_holds_more_than_rate_plus_burst_minus_one(rate: float, burst: int) -> None:
    """The provider's own bucket (same rate, same burst) would never refuse one of these."""
    clock = FakeClock(0.0)
    bucket = TokenBucket(rate, burst=burst, clock=clock)
    times: list[float] = []
    # Callers arrive in clumps; some come while a queue is still draining, some after the bucket refilled.
    for gap, clump in [(0.0, 30), (0.1, 5), (20.0, 7), (0.6, 40), (30.0, 3), (0.05, 12), (100.0, 9)]:
        clock.advance(gap)
        times += _admissions(bucket, clock, clump)
    assert _most_in_any_window(times, 1.0) == int(rate) + burst - 1
    assert _most_in_any_window(times, 1.0 / rate) == burst  # an interval's worth holds one burst


async def test_concurrent_callers_are_admitted_in_arrival_order_one_interval_apart() -> None:
    clock = FakeClock(50.0)
    sleeps = RecordedSleeps()
    bucket = TokenBucket(4.0, clock=clock, sleep=sleeps)
    order: list[int] = []

    async def caller(number: int) -> None:
        await bucket.acquire()
        order.append(number)

    await asyncio.gather(*(caller(n) for n in range(50)))
    # The first goes at once (no sleep at all); the k-th waits k intervals; nobody is served twice.
    assert sleeps == pytest.approx([0.25 * k for k in range(1, 50)])
    assert order == list(range(50))


async def test_acquire_sleeps_only_when_it_must() -> None:
    clock = FakeClock(0.0)
    sleeps = RecordedSleeps()
    bucket = TokenBucket(2.0, burst=2, clock=clock, sleep=sleeps)
    clock.advance(10.0)
    await bucket.acquire()
    await bucket.acquire()
    assert sleeps == []
    await bucket.acquire()
    assert sleeps == pytest.approx([0.5])


def test_a_rate_that_is_not_positive_is_refused() -> None:
    for rate in (0.0, -1.0):
        with pytest.raises(ValueError, match="rate must be positive"):
            TokenBucket(rate)


# -- DailyBudget ---------------------------------------------------------------------------------------


class FakeNow:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


def test_the_budget_admits_exactly_its_limit_then_fails_fast_with_the_reset() -> None:
    now = FakeNow(datetime(2024, 3, 9, 18, 0, tzinfo=UTC))
    budget = DailyBudget(P, 3, now=now)
    for left in (2, 1, 0):
        budget.consume()
        assert budget.remaining == left
    with pytest.raises(RateLimited) as caught:
        budget.consume()
    error = caught.value
    assert error.kind == "quota_exceeded" and error.provider == P
    assert error.reset_at == datetime(2024, 3, 10, tzinfo=UTC)
    assert error.retry_after == 6 * 3600.0
    assert budget.remaining == 0  # a refusal is not counted as a use


def test_the_quota_resets_at_midnight_utc_and_not_a_moment_before() -> None:
    now = FakeNow(datetime(2024, 12, 31, 23, 0, tzinfo=UTC))
    budget = DailyBudget(P, 2, now=now)
    budget.consume()
    budget.consume()
    now.at = datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(RateLimited) as caught:
        budget.consume()
    assert caught.value.retry_after == pytest.approx(1e-6)
    assert budget.reset_at == datetime(2025, 1, 1, tzinfo=UTC)

    now.at = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
    assert budget.remaining == 2
    assert budget.reset_at == datetime(2025, 1, 2, tzinfo=UTC)
    budget.consume()
    budget.consume()
    with pytest.raises(RateLimited):
        budget.consume()


def test_a_quota_the_provider_says_is_spent_stays_spent_until_the_reset() -> None:
    now = FakeNow(datetime(2024, 6, 1, 8, 30, tzinfo=UTC))
    budget = DailyBudget(P, 10_000, now=now)
    budget.consume()
    budget.mark_exhausted()
    assert budget.remaining == 0
    now.at += timedelta(hours=15, minutes=29)
    assert budget.remaining == 0
    with pytest.raises(RateLimited) as caught:
        budget.consume()
    assert caught.value.retry_after == 60.0
    now.at += timedelta(minutes=1)
    assert budget.remaining == 10_000


def test_a_day_skipped_entirely_still_resets_once() -> None:
    now = FakeNow(datetime(2024, 1, 1, 12, 0, tzinfo=UTC))
    budget = DailyBudget(P, 5, now=now)
    budget.mark_exhausted()
    now.at = datetime(2024, 1, 4, 1, 0, tzinfo=UTC)
    assert budget.remaining == 5
    assert budget.reset_at == datetime(2024, 1, 5, tzinfo=UTC)


# -- CircuitBreaker ------------------------------------------------------------------------------------


def test_the_breaker_opens_at_exactly_the_threshold() -> None:
    breaker = CircuitBreaker(P, failure_threshold=3, reset_timeout=30.0, clock=FakeClock())
    for count in (1, 2):
        breaker.before_call()
        breaker.record_failure()
        assert (breaker.state, breaker.consecutive_failures) == ("closed", count)
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(P, failure_threshold=3, reset_timeout=30.0, clock=FakeClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 2)


def test_an_open_breaker_half_opens_at_the_reset_timeout_and_not_before() -> None:
    clock = FakeClock(1000.0)
    breaker = CircuitBreaker(P, failure_threshold=1, reset_timeout=30.0, clock=clock)
    breaker.record_failure()
    clock.advance(12.5)
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_after == 17.5
    clock.advance(17.5 - 0.125)  # times in binary fractions, so the edge is exact
    assert breaker.state == "open"
    clock.advance(0.125)
    assert breaker.state == "half_open"


def test_half_open_lets_one_probe_through_and_fails_the_others_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(P, failure_threshold=1, reset_timeout=5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5.0)
    breaker.before_call()  # the probe
    for _ in range(3):
        with pytest.raises(CircuitOpen) as caught:
            breaker.before_call()
        assert caught.value.retry_after is None  # no useful wait to offer while a probe is out
    breaker.record_success()
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 0}
    breaker.before_call()


def test_a_failed_probe_reopens_for_a_fresh_reset_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(P, failure_threshold=3, reset_timeout=5.0, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(6.0)
    breaker.before_call()
    breaker.record_failure()  # one failure while half-open is enough
    assert breaker.state == "open"
    clock.advance(4.875)  # times in binary fractions, so the edge is exact
    assert breaker.state == "open"
    clock.advance(0.125)
    assert breaker.state == "half_open"


def test_a_probe_that_proves_nothing_closes_the_breaker_through_release() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(P, failure_threshold=1, reset_timeout=1.0, clock=clock)
    breaker.record_failure()
    clock.advance(1.0)
    breaker.before_call()
    breaker.release_probe()
    assert breaker.state == "closed"


# -- RetryPolicy: capped exponential backoff with equal jitter -----------------------------------------


@pytest.mark.parametrize(
    ("retry_number", "ceiling"), [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.6), (6, 2.0), (30, 2.0)]
)
def test_backoff_draws_between_half_the_ceiling_and_the_ceiling(retry_number: int, ceiling: float) -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    low, high = EdgeRng("low"), EdgeRng("high")
    assert policy.delay(retry_number, None, low) == pytest.approx(ceiling / 2)
    assert policy.delay(retry_number, None, high) == pytest.approx(ceiling)
    assert low.ranges == high.ranges == [pytest.approx((ceiling / 2, ceiling))]


def test_backoff_with_a_real_rng_stays_in_the_equal_jitter_band() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    rng = random.Random(18)
    draws = [policy.delay(3, None, rng) for _ in range(2000)]
    assert min(draws) >= 0.2 and max(draws) <= 0.4
    assert min(draws) < 0.21 and max(draws) > 0.39  # the band is used, not one point of it


@pytest.mark.parametrize(("hint", "expected"), [(0.0, 0.0), (7.5, 7.5), (-3.0, 0.0)])
def test_retry_after_replaces_the_backoff(hint: float, expected: float) -> None:
    rng = EdgeRng("high")
    assert RetryPolicy().delay(1, hint, rng) == expected
    assert rng.ranges == []


# -- call_with_retries: the rule per error kind, for idempotent and non-idempotent calls ----------------


ERRORS: list[tuple[str, Callable[[], ProviderError], bool, bool]] = [
    # (case, error, retried when idempotent, counts against the breaker)
    ("timeout", lambda: ProviderTimeout("t", provider=P), True, True),
    ("unavailable", lambda: ProviderUnavailable("u", provider=P, status_code=503), True, True),
    ("invalid_response", lambda: InvalidUpstreamResponse("i", provider=P), True, True),
    ("throttled", lambda: RateLimited("r", provider=P, kind="throttled"), True, False),
    ("quota_exceeded", lambda: RateLimited("q", provider=P, kind="quota_exceeded"), False, False),
    ("circuit_open", lambda: CircuitOpen("c", provider=P), False, False),
    ("validation", lambda: ValidationFailed("v", provider=P), False, False),
    ("not_found", lambda: NotFound("n", provider=P), False, False),
    ("conflict", lambda: Conflict("c", provider=P), False, False),
    ("auth", lambda: AuthenticationFailed("a", provider=P), False, False),
    ("forbidden", lambda: Forbidden("f", provider=P), False, False),
]


def _failing(make: Callable[[], ProviderError], calls: list[int]) -> Callable[[], Awaitable[str]]:
    async def attempt() -> str:
        calls.append(1)
        raise make()

    return attempt


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "not_idempotent"])
@pytest.mark.parametrize(("case", "make", "retried", "counts"), ERRORS, ids=[e[0] for e in ERRORS])
async def test_the_retry_rule_per_error_kind(
    case: str, make: Callable[[], ProviderError], retried: bool, counts: bool, idempotent: bool
) -> None:
    calls: list[int] = []
    sleeps = RecordedSleeps()
    stats = RetryStats()
    breaker = CircuitBreaker(P, failure_threshold=100, clock=FakeClock())
    policy = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=2.0, budget=60.0)
    with pytest.raises(type(make())):
        await call_with_retries(
            _failing(make, calls), provider=P, policy=policy, breaker=breaker, idempotent=idempotent,
            stats=stats, rng=EdgeRng("high"), sleep=sleeps,
        )  # fmt: skip
    expected_attempts = 4 if retried and idempotent else 1
    assert len(calls) == stats.attempts == expected_attempts
    assert stats.retries == len(sleeps) == expected_attempts - 1
    assert sleeps == pytest.approx([0.1, 0.2, 0.4][: expected_attempts - 1])
    assert breaker.consecutive_failures == (expected_attempts if counts else 0)


async def test_a_success_after_failures_returns_and_closes_the_count() -> None:
    outcomes: list[ProviderError | str] = [
        ProviderUnavailable("u", provider=P),
        RateLimited("r", provider=P, kind="throttled", retry_after=1.5),
        "done",
    ]
    sleeps = RecordedSleeps()
    breaker = CircuitBreaker(P, failure_threshold=5, clock=FakeClock())

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome

    result = await call_with_retries(
        attempt, provider=P, policy=RetryPolicy(), breaker=breaker, idempotent=True,
        rng=EdgeRng("low"), sleep=sleeps,
    )  # fmt: skip
    assert result == "done"
    assert sleeps == pytest.approx([0.05, 1.5])  # jittered backoff, then the provider's Retry-After
    assert breaker.consecutive_failures == 0


async def test_the_time_budget_ends_retries_before_a_sleep_would_pass_it() -> None:
    calls: list[int] = []
    sleeps = RecordedSleeps()
    policy = RetryPolicy(max_attempts=50, base_delay=1.0, max_delay=1.0, budget=3.5)
    with pytest.raises(ProviderUnavailable):
        await call_with_retries(
            _failing(lambda: ProviderUnavailable("u", provider=P), calls), provider=P, policy=policy,
            breaker=CircuitBreaker(P, failure_threshold=100), idempotent=True, rng=EdgeRng("high"),
            sleep=sleeps,
        )  # fmt: skip
    assert sleeps == [1.0, 1.0, 1.0] and len(calls) == 4


async def test_a_retry_after_longer_than_the_budget_is_not_waited_for() -> None:
    calls: list[int] = []
    sleeps = RecordedSleeps()
    with pytest.raises(RateLimited):
        await call_with_retries(
            _failing(lambda: RateLimited("r", provider=P, kind="throttled", retry_after=5.01), calls),
            provider=P, policy=RetryPolicy(budget=5.0), breaker=CircuitBreaker(P), idempotent=True,
            sleep=sleeps,
        )  # fmt: skip
    assert sleeps == [] and len(calls) == 1


async def test_an_open_breaker_stops_the_retries_without_another_attempt() -> None:
    calls: list[int] = []
    sleeps = RecordedSleeps()
    breaker = CircuitBreaker(P, failure_threshold=2, reset_timeout=30.0, clock=FakeClock())
    with pytest.raises(CircuitOpen):
        await call_with_retries(
            _failing(lambda: ProviderTimeout("t", provider=P), calls), provider=P,
            policy=RetryPolicy(max_attempts=5), breaker=breaker, idempotent=True, rng=EdgeRng("low"),
            sleep=sleeps,
        )  # fmt: skip
    assert len(calls) == 2 and breaker.state == "open"
    assert len(sleeps) == 2  # it slept before the third try, then the breaker refused it


async def test_the_total_timeout_turns_a_hang_into_a_timeout_that_is_retried() -> None:
    calls: list[int] = []
    never = asyncio.Event()

    async def hang() -> str:
        calls.append(1)
        await never.wait()
        return "unreachable"

    with pytest.raises(ProviderTimeout, match=r"within 0\.01s"):
        await call_with_retries(
            hang, provider=P, policy=RetryPolicy(max_attempts=2), breaker=CircuitBreaker(P),
            idempotent=True, total_timeout=0.01, sleep=RecordedSleeps(),
        )  # fmt: skip
    assert len(calls) == 2

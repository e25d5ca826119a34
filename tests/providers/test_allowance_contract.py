"""One contract, two implementations: the per-process allowance and the one shared through Redis.

Each test runs against :class:`ProcessAllowance` and :class:`RedisAllowance` (the machine's real Redis
at 127.0.0.1:6379, database 14, which no other test uses; ``TEST_ALLOWANCE_REDIS_URL`` to change it).
Every Redis test uses a token of its own and deletes its keys afterwards.

The rate is pinned without waiting: the allowance's ``sleep`` only records how long it was asked to
wait, and the rate is so slow (one call per 100 s) that the scheduling noise of a busy machine cannot
move a slot by a whole interval.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import redis.asyncio as redis

from gateway.core.model import Provider
from gateway.providers.allowance import CallAllowance, ProcessAllowance
from gateway.providers.errors import RateLimited
from gateway.providers.shared_allowance import RedisAllowance, token_key_prefix

REDIS_URL = os.environ.get("TEST_ALLOWANCE_REDIS_URL", "redis://127.0.0.1:6379/14")
PROVIDER = Provider.CONSTANT_CONTACT
SLOW_RATE = 0.01  # one call per 100 s
INTERVAL = 1 / SLOW_RATE


@dataclass
class Waits:
    """A ``sleep`` that records and returns at once."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.seconds.append(delay)


MakeAllowance = Callable[..., Awaitable[CallAllowance]]


@pytest.fixture(params=["process", "redis"])
async def make_allowance(request: pytest.FixtureRequest) -> AsyncIterator[MakeAllowance]:
    """``await make_allowance(waits, rate=..., quota=..., token=...)``: an allowance of the parametrised
    kind; Redis allowances made with the same ``token`` share their counts."""
    made: list[RedisAllowance] = []
    tokens: set[str] = set()
    default_token = f"token-{uuid.uuid4().hex}"

    async def make(
        waits: Waits, *, rate: float = SLOW_RATE, quota: int = 100, token: str = default_token
    ) -> CallAllowance:
        if request.param == "process":
            return ProcessAllowance(PROVIDER, rate_per_second=rate, daily_quota=quota, sleep=waits)
        tokens.add(token)
        allowance = RedisAllowance(
            REDIS_URL,
            PROVIDER,
            token,
            rate_per_second=rate,
            daily_quota=quota,
            redis_timeout=2.0,
            sleep=waits,
        )
        made.append(allowance)
        return allowance

    yield make
    for allowance in made:
        await allowance.aclose()
    cleaner = redis.from_url(REDIS_URL)
    try:
        for token in tokens:
            keys = [key async for key in cleaner.scan_iter(match=f"{token_key_prefix(PROVIDER, token)}*")]
            if keys:
                await cleaner.delete(*keys)
    finally:
        await cleaner.aclose()


async def test_calls_are_spaced_one_interval_apart(make_allowance: MakeAllowance) -> None:
    waits = Waits()
    allowance = await make_allowance(waits)
    for _ in range(3):
        await allowance.admit()
    # The first call goes at once; each later one waits for its own slot, one interval after the last.
    assert len(waits.seconds) == 2
    assert INTERVAL / 2 < waits.seconds[0] <= INTERVAL
    assert INTERVAL * 1.5 < waits.seconds[1] <= 2 * INTERVAL


async def test_the_quota_is_counted_and_then_refused(make_allowance: MakeAllowance) -> None:
    allowance = await make_allowance(Waits(), rate=1000.0, quota=3)
    assert (allowance.limit, allowance.rate) == (3, 1000.0)
    for left in (2, 1, 0):
        await allowance.admit()
        assert allowance.remaining == left
    with pytest.raises(RateLimited) as refused:
        await allowance.admit()
    assert refused.value.kind == "quota_exceeded"
    assert refused.value.reset_at == allowance.reset_at
    assert allowance.remaining == 0


async def test_a_quota_the_provider_says_is_spent_is_believed(make_allowance: MakeAllowance) -> None:
    allowance = await make_allowance(Waits(), rate=1000.0, quota=50)
    await allowance.admit()
    allowance.mark_exhausted()
    assert allowance.remaining == 0
    with pytest.raises(RateLimited):
        await allowance.admit()
    assert allowance.exhausted_error().kind == "quota_exceeded"


async def test_only_the_redis_allowance_is_shared_by_replicas(
    make_allowance: MakeAllowance, request: pytest.FixtureRequest
) -> None:
    """Two allowances for one token stand for two replicas: through Redis they share one rate and one
    quota; in-process, each counts alone (the difference the README warns about)."""
    shared = request.node.callspec.params["make_allowance"] == "redis"
    first_waits, second_waits = Waits(), Waits()
    first = await make_allowance(first_waits, quota=2)
    second = await make_allowance(second_waits, quota=2)
    await first.admit()
    await second.admit()
    if shared:
        assert first_waits.seconds == [] and len(second_waits.seconds) == 1
        assert INTERVAL / 2 < second_waits.seconds[0] <= INTERVAL
        with pytest.raises(RateLimited):
            await first.admit()
    else:
        assert first_waits.seconds == second_waits.seconds == []
        await first.admit()
        assert first.remaining == 0 and second.remaining == 1


async def test_a_spent_quota_one_replica_hears_of_reaches_the_others() -> None:
    token = f"token-{uuid.uuid4().hex}"
    told, other = (
        RedisAllowance(REDIS_URL, PROVIDER, token, rate_per_second=1000.0, daily_quota=50, redis_timeout=2.0)
        for _ in range(2)
    )
    try:
        told.mark_exhausted()
    finally:
        await told.aclose()  # waits for the write to Redis
    try:
        with pytest.raises(RateLimited):
            await other.admit()
        assert other.remaining == 0
    finally:
        await other.aclose()
        cleaner = redis.from_url(REDIS_URL)
        await cleaner.delete(
            *[key async for key in cleaner.scan_iter(match=f"{token_key_prefix(PROVIDER, token)}*")]
        )
        await cleaner.aclose()


async def test_other_tokens_are_counted_apart(make_allowance: MakeAllowance) -> None:
    one = await make_allowance(Waits(), rate=1000.0, quota=1, token=f"one-{uuid.uuid4().hex}")
    other = await make_allowance(Waits(), rate=1000.0, quota=1, token=f"other-{uuid.uuid4().hex}")
    await one.admit()
    await other.admit()
    assert one.remaining == other.remaining == 0


async def test_the_token_never_appears_in_redis() -> None:
    token = f"secret-{uuid.uuid4().hex}"
    allowance = RedisAllowance(
        REDIS_URL, PROVIDER, token, rate_per_second=100.0, daily_quota=5, redis_timeout=2.0
    )
    inspector = redis.from_url(REDIS_URL)
    try:
        await allowance.admit()
        keys = [key async for key in inspector.scan_iter(match=f"{token_key_prefix(PROVIDER, token)}*")]
        assert len(keys) == 2
        for key in keys:
            assert token.encode() not in key
            assert token.encode() not in (await inspector.get(key) or b"")
        await inspector.delete(*keys)
    finally:
        await allowance.aclose()
        await inspector.aclose()


async def test_an_unreachable_redis_falls_back_to_this_process_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits = Waits()
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
    allowance = RedisAllowance(
        "redis://127.0.0.1:9/0",
        PROVIDER,
        "token",
        rate_per_second=SLOW_RATE,
        daily_quota=2,
        redis_timeout=0.5,
        sleep=waits,
    )
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.providers.shared_allowance"):
            await allowance.admit()
            await allowance.admit()
            with pytest.raises(RateLimited):
                await allowance.admit()
    finally:
        await allowance.aclose()
    assert isinstance(allowance, RedisAllowance) and allowance.degraded
    assert allowance.remaining == 0  # the fallback's count feeds health() while Redis is away
    assert len(waits.seconds) == 1 and INTERVAL / 2 < waits.seconds[0] <= INTERVAL
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis cannot be reached" in warnings[0].getMessage()
    assert "token" not in warnings[0].getMessage().replace("token's", "")

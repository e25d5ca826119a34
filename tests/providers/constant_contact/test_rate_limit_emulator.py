"""The client-side limiter keeps the gateway under CC's per-second limit, so the emulator never answers
429 to normal use however many calls are concurrent; when a 429 does come, it is retried.

Client and emulator share one virtual clock (:class:`Lockstep`): the client's limiter and backoff read
it and "sleep" on it, the emulator's rate limiter reads it too, and time moves only when every request
already sent has been answered.  So the emulator sees each request at the instant the client's limiter
scheduled it, in process and over real sockets alike, and a loaded machine changes nothing: each test
asserts counts (429s, retries, requests), never durations.  CC's real 4/s is tested the same way, in no
time; how close the whole gateway comes to 4/s in real time is section 5 of the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from emulators.control import Clock

from gateway.providers.constant_contact import ConstantContactClient
from gateway.providers.errors import RateLimited
from gateway.providers.resilience import RetryPolicy
from gateway.serving import BackgroundServer

from .conftest import FAST_EMULATOR, ClientFactory, Emulator

# 50/s with a bucket of 3: a client that spaces its calls at 50/s never meets a 429, one that bursts does.
TIGHT = replace(FAST_EMULATOR, requests_per_second=50.0, rate_limit_burst=3)
# 20/s with a bucket of 2, for retries that must wait for the bucket to refill.
SLOW = replace(FAST_EMULATOR, requests_per_second=20.0, rate_limit_burst=2)
CALLS = 50

_announced: contextvars.ContextVar[bool] = contextvars.ContextVar("announced", default=False)


class Lockstep(httpx.AsyncBaseTransport):
    """Virtual time shared by a client (``clock``, ``sleep``, and this transport) and an emulator.

    A sleeper wakes in the order of its wake-up time, and only once no request is in flight; a
    request is in flight from the moment its sender wakes (or enters the transport) until its answer
    has come back.  The emulator's clock is frozen at the test's start plus the virtual time.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, emulator_clock: Clock) -> None:
        self.inner = inner
        self.now = 0.0
        self._start: datetime = emulator_clock.now()
        self._in_flight = 0
        self._sleepers: list[float] = []
        self._changed = asyncio.Condition()
        self.emulator_clock = emulator_clock

    def clock(self) -> float:
        return self.now

    def emulator_now(self) -> datetime:
        return self._start + timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        wake_at = self.now + seconds
        async with self._changed:
            if _announced.get():  # this task slept before its request went out: it is not sending yet
                _announced.set(False)
                self._in_flight -= 1
                self._changed.notify_all()
            heapq.heappush(self._sleepers, wake_at)
            await self._changed.wait_for(lambda: self._in_flight == 0 and self._sleepers[0] == wake_at)
            heapq.heappop(self._sleepers)
            self.now = max(self.now, wake_at)
            self._in_flight += 1  # the request this task sends next
            _announced.set(True)
            self._changed.notify_all()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _announced.get():
            _announced.set(False)
        else:
            self._in_flight += 1
        try:
            return await self.inner.handle_async_request(request)
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _lockstep(cc: Emulator, monkeypatch: pytest.MonkeyPatch) -> Lockstep:
    clock: Clock = cc.app.state.control.clock
    time = Lockstep(cc.transport() or httpx.AsyncHTTPTransport(), clock)
    monkeypatch.setattr(clock, "now", time.emulator_now)
    return time


def _client(
    make_client: ClientFactory, cc: Emulator, time: Lockstep, **overrides: object
) -> ConstantContactClient:
    return make_client(time, base_url=cc.base_url, clock=time.clock, sleep=time.sleep, **overrides)


async def _deleted_id(cc: Emulator) -> str:
    truth = await cc.ground_truth()
    return str(next(i for i, c in truth["contacts"].items() if c["status"] == "deleted"))


async def _burst(client: ConstantContactClient, contact_id: str, calls: int = CALLS) -> None:
    contacts = await asyncio.gather(*(client.get_contact(contact_id) for _ in range(calls)))
    assert {c.contact_id for c in contacts} == {contact_id}


@pytest.mark.parametrize("cc_settings", [TIGHT], indirect=True)
async def test_a_concurrent_burst_at_the_limiters_rate_meets_no_429(
    make_client: ClientFactory, cc: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id = await _deleted_id(cc)
    time = _lockstep(cc, monkeypatch)
    client = _client(make_client, cc, time, rate_per_second=50.0)
    await _burst(client, contact_id)
    assert await cc.operations() == {"getContact": CALLS}  # no "throttled" entry: not one 429
    assert client.stats.retries == 0
    assert time.now == pytest.approx((CALLS - 1) / 50.0)  # and no slower than the rate allows
    assert client.allowance.remaining == client.allowance.limit - CALLS


@pytest.mark.parametrize("cc_settings", [TIGHT], indirect=True)
async def test_the_same_burst_without_the_limiter_is_throttled(
    make_client: ClientFactory, cc: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control experiment: it shows the emulator would have caught a client that does not limit."""
    contact_id = await _deleted_id(cc)
    time = _lockstep(cc, monkeypatch)
    client = _client(make_client, cc, time, rate_per_second=1e6, retry=RetryPolicy(max_attempts=1))
    results = await asyncio.gather(
        *(client.get_contact(contact_id) for _ in range(CALLS)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert refused and all(r.kind == "throttled" and r.message == "Too Many Requests" for r in refused)
    assert (await cc.operations())["throttled"] == len(refused)
    # 50 calls in 49 microseconds against a bucket of 3 refilling at 50/s: 3 pass, the rest do not.
    assert len(refused) == CALLS - 3


@pytest.mark.parametrize("cc_settings", [SLOW], indirect=True)
async def test_throttled_answers_are_retried_with_backoff_until_they_pass(
    make_client: ClientFactory, cc: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id = await _deleted_id(cc)
    time = _lockstep(cc, monkeypatch)
    patient = RetryPolicy(max_attempts=12, base_delay=0.05, max_delay=0.3, budget=10.0)
    client = _client(make_client, cc, time, rate_per_second=1e6, retry=patient)
    await _burst(client, contact_id, calls=10)
    operations = await cc.operations()
    assert operations["throttled"] > 0
    assert client.stats.retries == operations["throttled"]  # every 429, and only those, was retried
    assert operations["getContact"] == 10 + operations["throttled"]
    assert client.breaker.consecutive_failures == 0


async def test_fifty_concurrent_calls_at_the_documented_4_per_second(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CC's real limit on both sides, over real sockets: zero 429s, spread over 49 / 4 = 12.25 s."""
    settings = ConstantContactEmulatorSettings(seed=9, contacts=60)
    assert (settings.requests_per_second, settings.burst) == (4.0, 4)
    with BackgroundServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url) as control:
            truth = (await control.get("/_emulator/ground-truth")).json()
            contact_id = next(iter(truth["contacts"]))
            emulator = Emulator(control, server.app, "real_http", server.url, server)  # type: ignore[arg-type]
            time = _lockstep(emulator, monkeypatch)
            client = _client(make_client, emulator, time, rate_per_second=4.0)
            await _burst(client, contact_id)
            operations = (await control.get("/_emulator/requests")).json()["operations"]
    assert operations == {"getContact": CALLS}  # no "throttled" entry: not one 429
    assert client.stats.retries == 0
    assert time.now == pytest.approx((CALLS - 1) / 4.0)

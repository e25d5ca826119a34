"""Timeouts, retries, backoff, Retry-After and the circuit breaker, with faults injected by the emulator.

Each fault test asserts three things: how many attempts and retries the client made (``client.stats``
and the emulator's HTTP request count), the typed error it ended with, and the breaker's state.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import orjson
import pytest

from gateway.core.model import Provider
from gateway.providers.errors import (
    CircuitOpen,
    InvalidUpstreamResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from gateway.providers.getresponse import RpcCall
from gateway.providers.resilience import CircuitBreaker, RetryPolicy, Timeouts

from .conftest import ClientFactory, Emulator, rpc_reply, secret_free

SHORT = Timeouts(connect=1.0, read=1.0, total=0.15)
HANG_SECONDS = 0.6  # past the client's total timeout; short, so a real server is not kept busy for long

# fault -> (final error, whether it counts as a request failure for the breaker)
FAULTS: dict[str, tuple[type[ProviderError], bool]] = {
    "error:503": (ProviderUnavailable, True),
    "error:500": (ProviderUnavailable, True),
    "error:429": (RateLimited, False),
    "hang": (ProviderTimeout, True),
    "malformed": (InvalidUpstreamResponse, True),
    "drop": (ProviderUnavailable, True),
}


def _breaker(threshold: int = 3, clock: Any = time.monotonic) -> CircuitBreaker:
    return CircuitBreaker(Provider.GETRESPONSE, failure_threshold=threshold, reset_timeout=30.0, clock=clock)


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_passing_fault_is_retried_and_the_call_succeeds(emulator: Emulator, fault: str) -> None:
    client = emulator.client(timeouts=SHORT, breaker=_breaker())
    await emulator.faults(script=[fault, "ok"], hang_seconds=HANG_SECONDS)

    assert await client.ping() is True

    assert (client.stats.attempts, client.stats.retries) == (2, 1)
    assert await emulator.http_requests() == 2
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 0


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_lasting_fault_ends_in_its_typed_error_after_the_attempts(
    emulator: Emulator, fault: str
) -> None:
    client = emulator.client(timeouts=SHORT, breaker=_breaker(threshold=3))
    await emulator.faults(script=[fault] * 3, hang_seconds=HANG_SECONDS)
    expected, breaks = FAULTS[fault]

    with pytest.raises(ProviderError) as caught:
        await client.ping()

    assert type(caught.value) is expected
    secret_free(caught.value)
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert await emulator.http_requests() == 3
    assert client.breaker.state == ("open" if breaks else "closed")
    assert client.breaker.consecutive_failures == (3 if breaks else 0)


async def test_two_503s_then_ok_for_a_batch_of_100(emulator: Emulator) -> None:
    client = emulator.client()
    await emulator.faults(script=["error:503", "error:503", "ok"])

    answers = await client.batch([RpcCall("get_contacts_deleted", {"reason": "api"}) for _ in range(100)])

    assert len(answers) == 100 and all(answer == answers[0] and answer for answer in answers)
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert await emulator.http_requests() == 3
    assert client.breaker.state == "closed"


async def test_an_open_breaker_fails_fast_without_a_request_then_half_opens(emulator: Emulator) -> None:
    now = [1000.0]
    client = emulator.client(breaker=_breaker(threshold=3, clock=lambda: now[0]))
    await emulator.faults(script=["error:503"] * 3)
    with pytest.raises(ProviderUnavailable):
        await client.ping()
    assert client.breaker.state == "open"

    with pytest.raises(CircuitOpen) as caught:
        await client.batch([RpcCall("ping")])
    assert caught.value.retry_after == 30.0
    assert await emulator.http_requests() == 3 and client.stats.attempts == 3

    now[0] += 30.0
    assert client.breaker.snapshot()["state"] == "half_open"
    assert await client.ping() is True
    assert client.breaker.snapshot()["state"] == "closed"
    assert await emulator.http_requests() == 4


async def test_add_contact_is_never_retried(emulator: Emulator) -> None:
    client = emulator.client(timeouts=SHORT)
    campaign = next(iter((await emulator.ground_truth())["campaigns"]))
    await emulator.faults(script=["hang", "error:503"], hang_seconds=HANG_SECONDS)

    with pytest.raises(ProviderTimeout):
        await client.add_contact(campaign_id=campaign, email="once@example.com")
    with pytest.raises(ProviderUnavailable):
        await client.add_contact(campaign_id=campaign, email="once@example.com")

    assert (client.stats.attempts, client.stats.retries) == (2, 0)
    assert await emulator.http_requests() == 2
    assert client.breaker.consecutive_failures == 2


async def test_a_batch_holding_a_non_idempotent_call_is_sent_once(emulator: Emulator) -> None:
    client = emulator.client()
    campaign = next(iter((await emulator.ground_truth())["campaigns"]))
    add = RpcCall("add_contact", {"campaign": campaign, "email": "once@example.com"}, idempotent=False)
    await emulator.faults(script=["error:503", "error:503"])

    with pytest.raises(ProviderUnavailable):
        await client.batch([RpcCall("ping"), add])
    answers = await client.batch([RpcCall("ping"), RpcCall("get_campaign", {"campaign": campaign})])

    assert answers[0] == {"ping": "pong"}
    assert (client.stats.attempts, client.stats.retries) == (3, 1)
    assert await emulator.http_requests() == 3


async def test_without_batching_each_call_retries_on_its_own(emulator: Emulator) -> None:
    client = emulator.client(batching=False, max_concurrency=1)  # one at a time: the script order is known
    await emulator.faults(script=["error:503", "ok", "error:503"])

    answers = await client.batch([RpcCall("ping"), RpcCall("ping")])

    assert answers == [{"ping": "pong"}, {"ping": "pong"}]
    assert (client.stats.attempts, client.stats.retries) == (4, 2)


async def test_a_refused_connection_is_provider_unavailable_after_the_retries(
    make_client: ClientFactory,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
    client = make_client(api_url=f"http://127.0.0.1:{port}/")

    with pytest.raises(ProviderUnavailable, match="ConnectError") as caught:
        await client.ping()

    secret_free(caught.value)
    assert (client.stats.attempts, client.stats.retries) == (3, 2)


# -- backoff, Retry-After and the retry budget ---------------------------------------------------------


def _sequence(*responses: httpx.Response | None) -> httpx.MockTransport:
    """Answer with ``responses`` in turn; ``None`` means a successful ping."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        response = queue.pop(0)
        if response is None:
            return httpx.Response(200, content=orjson.dumps(rpc_reply(request, {"ping": "pong"})))
        return response

    return httpx.MockTransport(handler)


class _Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(503, "0.25", 0.25), (429, "2", 2.0), (503, "Thu, 01 Jan 1970 00:00:00 GMT", 0.0)],
)
async def test_retry_after_is_honoured(
    make_client: ClientFactory, status: int, retry_after: str, expected: float
) -> None:
    sleeps = _Sleeps()
    transport = _sequence(httpx.Response(status, headers={"retry-after": retry_after}), None)
    client = make_client(transport, sleep=sleeps, retry=RetryPolicy(max_attempts=3, budget=5.0))

    assert await client.ping() is True

    assert sleeps == [expected]


async def test_a_retry_after_beyond_the_budget_ends_the_retries_at_once(make_client: ClientFactory) -> None:
    sleeps = _Sleeps()
    client = make_client(_sequence(httpx.Response(429, headers={"retry-after": "30"})), sleep=sleeps)

    with pytest.raises(RateLimited) as caught:
        await client.ping()

    assert caught.value.kind == "throttled" and caught.value.retry_after == 30.0
    assert sleeps == [] and client.stats.retries == 0


async def test_backoff_is_capped_exponential_with_jitter_under_the_budget(make_client: ClientFactory) -> None:
    sleeps = _Sleeps()
    policy = RetryPolicy(max_attempts=20, base_delay=0.1, max_delay=0.4, budget=1.0)
    client = make_client(_sequence(*[httpx.Response(502)] * 20), sleep=sleeps, retry=policy)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.ping()

    assert caught.value.status_code == 502
    assert 0.05 <= sleeps[0] <= 0.1 and 0.1 <= sleeps[1] <= 0.2
    assert all(delay <= 0.4 for delay in sleeps)
    assert sum(sleeps) <= 1.0 and len(sleeps) == client.stats.retries < 19

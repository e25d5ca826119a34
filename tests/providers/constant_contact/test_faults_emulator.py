"""Fault injection through the emulator's control plane: what the client retries, what it reports, and
what its circuit breaker makes of it.  Every test asserts the retry count (the client's own counter and
the emulator's request log), the final typed error, and the breaker's state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.core.model import Provider
from gateway.providers.constant_contact import ConstantContactClient
from gateway.providers.errors import (
    CircuitOpen,
    InvalidUpstreamResponse,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from gateway.providers.resilience import CircuitBreaker, Timeouts

from .conftest import ClientFactory, Emulator

SHORT = Timeouts(connect=1.0, read=1.0, total=0.15)


async def _deleted_id(cc: Emulator) -> str:
    truth = await cc.ground_truth()
    return str(next(i for i, c in truth["contacts"].items() if c["status"] == "deleted"))


def client_for(
    make_client: ClientFactory,
    cc: Emulator,
    *,
    threshold: int = 50,
    reset: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    **overrides: Any,
) -> ConstantContactClient:
    breaker = CircuitBreaker(
        Provider.CONSTANT_CONTACT, failure_threshold=threshold, reset_timeout=reset, clock=clock
    )
    return make_client(cc.transport(), base_url=cc.base_url, breaker=breaker, **overrides)


async def test_latency_past_the_timeout_is_retried_then_reported_and_opens_the_breaker(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    now = [1000.0]  # the breaker's clock: it half-opens when the test says so, not after a sleep
    client = client_for(make_client, cc, threshold=3, reset=30.0, clock=lambda: now[0], timeouts=SHORT)
    await cc.faults(latency_ms=400)
    with pytest.raises(ProviderTimeout) as caught:
        await client.get_contact(contact_id)
    assert "0.15s" in caught.value.message
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert (await cc.counts())["http_requests"] == 3
    assert client.breaker.state == "open"

    with pytest.raises(CircuitOpen):  # fails fast: nothing reaches the emulator
        await client.get_contact(contact_id)
    assert (await cc.counts())["http_requests"] == 3

    await cc.faults()  # healthy again; after reset_timeout one probe closes the breaker
    now[0] += 29.875
    assert client.breaker.snapshot()["state"] == "open"
    now[0] += 0.125
    assert client.breaker.snapshot()["state"] == "half_open"
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert client.breaker.snapshot() == {"state": "closed", "consecutive_failures": 0}

    # The client gave up on the three slow requests, but a real server still finishes them after its
    # 400 ms; wait (by count, not by time) until it has, so they cannot take a later test's faults.
    # In process the client's timeout cancelled them inside the app: only the probe reached it.
    finished = 1 if cc.server is None else 4
    while (await cc.operations()).get("getContact", 0) < finished:
        await asyncio.sleep(0.01)
    assert (await cc.operations())["getContact"] == finished


async def test_a_short_burst_of_503s_is_absorbed_by_retries(make_client: ClientFactory, cc: Emulator) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc)
    await cc.faults(script=["error", "error:502"])
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert (await cc.counts())["http_requests"] == 3 and (await cc.operations()) == {"getContact": 1}
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 0


async def test_a_long_burst_of_5xx_ends_as_unavailable_and_counts_against_the_breaker(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc, threshold=5)
    await cc.faults(script=["error:500"] * 3)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.delete_contact(contact_id)
    assert (caught.value.status_code, caught.value.message) == (500, "Injected failure")
    assert client.stats.retries == 2 and (await cc.counts())["http_requests"] == 3
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 3

    await cc.faults(script=["error:503"] * 2)
    with pytest.raises(ProviderUnavailable):
        [p async for p in client.iter_contact_pages(status=("deleted",))]
    assert client.breaker.snapshot() == {"state": "open", "consecutive_failures": 5}
    assert (await cc.counts())["http_requests"] == 5  # the breaker stopped the third attempt


async def test_malformed_json_is_retried_and_reported_as_an_invalid_response(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc)
    await cc.faults(script=["malformed"])
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert client.stats.retries == 1 and client.breaker.consecutive_failures == 0

    await cc.faults(malformed_rate=1.0)
    with pytest.raises(InvalidUpstreamResponse) as caught:
        await client.list_contact_lists()
    assert "not JSON" in caught.value.message
    assert client.stats.retries == 3 and (await cc.counts())["http_requests"] == 5
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 3


async def test_dropped_connections_are_retried_and_reported_as_unavailable(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc, threshold=3)
    await cc.faults(script=["drop"])
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert client.stats.retries == 1 and client.breaker.consecutive_failures == 0

    await cc.faults(drop_rate=1.0)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_contact(contact_id)
    assert "RemoteProtocolError" in caught.value.message
    assert client.stats.retries == 3 and (await cc.counts())["http_requests"] == 5
    assert client.breaker.state == "open"


async def test_a_hung_request_times_out_and_the_retry_succeeds(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc, timeouts=SHORT)
    await cc.faults(script=["hang"], hang_seconds=1.0)
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert (client.stats.attempts, client.stats.retries) == (2, 1)
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 0


async def test_a_burst_of_429s_is_retried_without_touching_the_breaker(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = client_for(make_client, cc)
    await cc.faults(script=["error:429", "error:429"])
    assert (await client.get_contact(contact_id)).contact_id == contact_id
    assert client.stats.retries == 2 and (await cc.counts())["http_requests"] == 3
    assert client.breaker.consecutive_failures == 0

    await cc.faults(script=["error:429"] * 3)
    with pytest.raises(RateLimited) as caught:
        await client.get_contact(contact_id)
    assert caught.value.kind == "throttled"
    assert client.stats.retries == 4 and client.breaker.state == "closed"


async def test_bulk_activity_creation_is_not_retried_after_a_5xx_but_is_after_a_429(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    list_id = next(iter((await cc.ground_truth())["lists"]))
    client = client_for(make_client, cc)

    await cc.faults(script=["error:503"])
    with pytest.raises(ProviderUnavailable):
        await client.start_bulk_restore([contact_id], [list_id])
    assert client.stats.retries == 0 and (await cc.counts())["http_requests"] == 1
    await cc.faults(script=["drop"])
    with pytest.raises(ProviderUnavailable):
        await client.start_bulk_delete([contact_id])
    assert client.stats.retries == 0 and (await cc.counts())["http_requests"] == 2
    assert (await cc.ground_truth())["activities"] == {}

    await cc.faults(script=["error:429"])
    (activity,) = await client.start_bulk_restore([contact_id], [list_id])
    assert client.stats.retries == 1 and (await cc.operations())["postListAddContact"] == 1
    assert list((await cc.ground_truth())["activities"]) == [activity.activity_id]

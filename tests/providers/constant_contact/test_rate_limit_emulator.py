"""The client-side limiter keeps the gateway under CC's per-second limit, so the emulator never answers
429 to normal use however many calls are concurrent; when a 429 does come, it is retried.

Only ``test_fifty_concurrent_calls_at_the_documented_4_per_second`` runs at CC's real 4/s (about 12 s);
the others use higher rates on both sides, with a small emulator bucket so they can still fail.  What
is asserted is counted (429s, retries, requests), never timed: the limiter's exact spacing is pinned on
a fake clock in ``test_limits_unit.py``, and how close the gateway comes to 4/s end to end is section 5
of the benchmarks.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app

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


async def _deleted_id(cc: Emulator) -> str:
    truth = await cc.ground_truth()
    return str(next(i for i, c in truth["contacts"].items() if c["status"] == "deleted"))


async def _burst(client: ConstantContactClient, contact_id: str) -> None:
    contacts = await asyncio.gather(*(client.get_contact(contact_id) for _ in range(CALLS)))
    assert {c.contact_id for c in contacts} == {contact_id}


@pytest.mark.parametrize("cc_settings", [TIGHT], indirect=True)
async def test_a_concurrent_burst_at_the_limiters_rate_meets_no_429(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    client = make_client(cc.transport(), base_url=cc.base_url, rate_per_second=50.0)
    assert client.limiter.rate == 50.0
    await _burst(client, contact_id)
    operations = await cc.operations()
    assert operations == {"getContact": CALLS}  # no "throttled" entry: not one 429
    assert client.stats.retries == 0
    assert client.budget.remaining == client.budget.limit - CALLS


@pytest.mark.parametrize("cc_settings", [TIGHT], indirect=True)
async def test_the_same_burst_without_the_limiter_is_throttled(
    make_client: ClientFactory, cc: Emulator
) -> None:
    """The control experiment: it shows the emulator would have caught a client that does not limit."""
    contact_id = await _deleted_id(cc)
    client = make_client(
        cc.transport(), base_url=cc.base_url, rate_per_second=1e6, retry=RetryPolicy(max_attempts=1)
    )
    results = await asyncio.gather(
        *(client.get_contact(contact_id) for _ in range(CALLS)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert refused and all(r.kind == "throttled" and r.message == "Too Many Requests" for r in refused)
    assert (await cc.operations())["throttled"] == len(refused)


@pytest.mark.parametrize("cc_settings", [SLOW], indirect=True)
async def test_throttled_answers_are_retried_with_backoff_until_they_pass(
    make_client: ClientFactory, cc: Emulator
) -> None:
    contact_id = await _deleted_id(cc)
    patient = RetryPolicy(max_attempts=12, base_delay=0.05, max_delay=0.3, budget=10.0)
    client = make_client(cc.transport(), base_url=cc.base_url, rate_per_second=1e6, retry=patient)
    contacts = await asyncio.gather(*(client.get_contact(contact_id) for _ in range(10)))
    assert len(contacts) == 10
    operations = await cc.operations()
    assert operations["throttled"] > 0
    assert client.stats.retries == operations["throttled"]  # every 429, and only those, was retried
    assert operations["getContact"] == 10 + operations["throttled"]
    assert client.breaker.consecutive_failures == 0


async def test_fifty_concurrent_calls_at_the_documented_4_per_second(make_client: ClientFactory) -> None:
    """CC's real limit on both sides, over real sockets: zero 429s (it takes about 49 / 4 = 12.25 s)."""
    settings = ConstantContactEmulatorSettings(seed=9, contacts=60)
    assert (settings.requests_per_second, settings.burst) == (4.0, 4)
    with BackgroundServer(create_app(settings)) as server:
        async with httpx.AsyncClient(base_url=server.url) as control:
            truth = (await control.get("/_emulator/ground-truth")).json()
            contact_id = next(iter(truth["contacts"]))
            client = make_client(base_url=server.url, rate_per_second=4.0)
            await _burst(client, contact_id)
            operations = (await control.get("/_emulator/requests")).json()["operations"]
    assert operations == {"getContact": CALLS}  # no "throttled" entry: not one 429
    assert client.stats.retries == 0

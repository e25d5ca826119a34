"""Concurrent first pages of one filter share a provider listing; a finished one is reused only with a TTL."""

from __future__ import annotations

import asyncio

import pytest

from gateway.core.model import ListedContact, Provider
from gateway.core.shared_listings import SharedListings
from gateway.providers.errors import ProviderUnavailable

from .factories import contact

CC, GR = Provider.CONSTANT_CONTACT, Provider.GETRESPONSE


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail = False

    async def fetch(self) -> list:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise ProviderUnavailable("down", provider=Provider.GETRESPONSE)
        return [contact(f"c{self.calls}")]


async def test_concurrent_callers_share_one_fetch() -> None:
    shared, upstream = SharedListings(), Upstream()
    waiters = [asyncio.ensure_future(shared.get(GR, "q", upstream.fetch)) for _ in range(5)]
    other = asyncio.ensure_future(shared.get(GR, "another filter", upstream.fetch))
    elsewhere = asyncio.ensure_future(shared.get(CC, "q", upstream.fetch))
    await asyncio.sleep(0)
    upstream.release.set()
    listings = await asyncio.gather(*waiters)
    await asyncio.gather(other, elsewhere)
    assert upstream.calls == 3
    assert all(listing is listings[0] for listing in listings)
    # Without a TTL nothing is kept once the flight has landed.
    await shared.get(GR, "q", upstream.fetch)
    assert upstream.calls == 4


async def test_a_ttl_reuses_finished_listings_until_it_expires_or_a_mutation_invalidates() -> None:
    now = [100.0]
    shared, upstream = SharedListings(ttl=5, clock=lambda: now[0]), Upstream()
    upstream.release.set()
    first = await shared.get(GR, "q", upstream.fetch)
    assert await shared.get(GR, "q", upstream.fetch) is first
    now[0] += 6
    assert await shared.get(GR, "q", upstream.fetch) is not first
    shared.invalidate(GR)
    await shared.get(GR, "q", upstream.fetch)
    assert upstream.calls == 3


async def test_failures_reach_every_waiter_and_are_not_kept() -> None:
    shared, upstream = SharedListings(ttl=60), Upstream()
    upstream.fail = True
    waiters = [asyncio.ensure_future(shared.get(GR, "q", upstream.fetch)) for _ in range(3)]
    await asyncio.sleep(0)
    upstream.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, ProviderUnavailable) for r in results) and upstream.calls == 1
    upstream.fail = False
    assert (await shared.get(GR, "q", upstream.fetch)).contacts
    assert upstream.calls == 2


async def test_one_waiter_cancelled_does_not_cancel_the_others() -> None:
    shared, upstream = SharedListings(), Upstream()
    quitter = asyncio.ensure_future(shared.get(GR, "q", upstream.fetch))
    stayer = asyncio.ensure_future(shared.get(GR, "q", upstream.fetch))
    await asyncio.sleep(0)
    quitter.cancel()
    upstream.release.set()
    assert (await stayer).contacts
    with pytest.raises(asyncio.CancelledError):
        await quitter


async def test_invalidate_detaches_a_flight_that_started_before_a_mutation() -> None:
    shared, upstream = SharedListings(ttl=60), Upstream()
    before = asyncio.ensure_future(shared.get(GR, "q", upstream.fetch))
    await asyncio.sleep(0)
    shared.invalidate(GR)  # a delete went through while the listing was in flight
    after = asyncio.ensure_future(shared.get(GR, "q", upstream.fetch))
    await asyncio.sleep(0)
    upstream.release.set()
    assert (await before) is not (await after)
    assert upstream.calls == 2
    assert await shared.get(GR, "q", upstream.fetch) is await after  # only the later one is kept


async def test_the_provider_slowest_last_time_is_asked_first() -> None:
    listings = SharedListings()
    assert listings.slowest_first([Provider.CONSTANT_CONTACT, Provider.GETRESPONSE]) == [
        Provider.CONSTANT_CONTACT, Provider.GETRESPONSE,
    ]  # fmt: skip  # nothing known yet: as given

    async def slow() -> list[ListedContact]:
        await asyncio.sleep(0.05)
        return []

    async def fast() -> list[ListedContact]:
        return []

    await asyncio.gather(
        listings.get(Provider.CONSTANT_CONTACT, "q", fast), listings.get(Provider.GETRESPONSE, "q", slow)
    )
    assert listings.slowest_first([Provider.CONSTANT_CONTACT, Provider.GETRESPONSE]) == [
        Provider.GETRESPONSE, Provider.CONSTANT_CONTACT,
    ]  # fmt: skip

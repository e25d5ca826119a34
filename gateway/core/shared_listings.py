"""Concurrent first pages of the same filter share one upstream listing per provider.

A first page reads every matching deleted contact from each provider (the merged order needs them all),
which at Constant Contact costs one request per 500 contacts against a budget of 4 per second and
10,000 per day.  When several callers ask the same question at once (a support team opening the same
view, a dashboard polled by many browsers), :class:`SharedListings` lets the first one fetch and the
others wait for the same answer ("single flight").  With ``ttl`` above zero a finished listing is
also reused for that many seconds, trading freshness (reported in ``sources.fetchedAt`` /
``ageSeconds``) for upstream budget; the default is 0: share in-flight listings only.

Mutations through the gateway call :meth:`SharedListings.invalidate` for the providers they touched,
so a listing started after a delete or restore never reuses one fetched before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass

from .model import ListedContact, Provider

__all__ = ["Listing", "SharedListings"]


@dataclass(frozen=True, slots=True)
class Listing:
    contacts: list[ListedContact]
    fetched_at: float
    """Unix time the provider was asked."""


class SharedListings:
    def __init__(self, *, ttl: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._in_flight: dict[tuple[Provider, Hashable], asyncio.Future[Listing]] = {}
        self._finished: dict[tuple[Provider, Hashable], tuple[float, Listing]] = {}
        self._last_duration: dict[Provider, float] = {}

    def slowest_first(self, providers: Iterable[Provider]) -> list[Provider]:
        """``providers``, the one whose last listing took longest first.

        A first page waits for its slowest provider; sending that provider's request first (each
        request takes a moment of CPU to send) starts its wait earlier.
        """
        return sorted(providers, key=lambda provider: -self._last_duration.get(provider, 0.0))

    async def get(
        self, provider: Provider, key: Hashable, fetch: Callable[[], Awaitable[list[ListedContact]]]
    ) -> Listing:
        """The listing for ``(provider, key)``: a fresh finished one, the one in flight, or a new one."""
        slot = (provider, key)
        finished = self._finished.get(slot)
        if finished is not None:
            if finished[0] > self._clock():
                return finished[1]
            del self._finished[slot]
        flight = self._in_flight.get(slot)
        if flight is None:
            flight = asyncio.ensure_future(self._fetch(provider, fetch))
            self._in_flight[slot] = flight
            flight.add_done_callback(lambda done: self._land(slot, done))
        # shield: one waiter giving up (a client that disconnected) must not cancel the others' fetch.
        return await asyncio.shield(flight)

    def invalidate(self, provider: Provider) -> None:
        """Forget ``provider``'s finished listings and detach its flights: later callers fetch anew."""
        for slot in [s for s in self._finished if s[0] is provider]:
            del self._finished[slot]
        for slot in [s for s in self._in_flight if s[0] is provider]:
            del self._in_flight[slot]

    async def _fetch(
        self, provider: Provider, fetch: Callable[[], Awaitable[list[ListedContact]]]
    ) -> Listing:
        started, clock = time.time(), time.monotonic()
        listing = Listing(await fetch(), started)
        self._last_duration[provider] = time.monotonic() - clock
        return listing

    def _land(self, slot: tuple[Provider, Hashable], flight: asyncio.Future[Listing]) -> None:
        current = self._in_flight.get(slot) is flight  # not if invalidate() detached it meanwhile
        if current:
            del self._in_flight[slot]
        if flight.cancelled() or flight.exception() is not None:  # exception(): marks it retrieved
            return
        if self.ttl > 0 and current:
            self._finished[slot] = (self._clock() + self.ttl, flight.result())

"""Work a first page leaves until after its answer, timed to stay off the next request's way.

A first page decodes whole provider answers and stores a snapshot of the merged listing.  Two costs
of that need not delay any answer: encoding the snapshot (``MemorySnapshotStore``'s write-behind)
and freeing the decoded answers (tens of thousands of small objects).  Run on the event loop's next
turn, they used to land on the *next* request instead: a client that sends it as soon as an answer
arrives (a closed loop, a UI paging on) was read, parsed and sent upstream only after them.  Started
``DELAY`` seconds later, they run while that request waits for its providers, a network round trip
that takes far longer than the work itself.  Section 2 of BENCHMARKS.md (a closed loop at
concurrency 1) is where the difference shows.  Nothing waits for the work: a page asked before the
snapshot is encoded is read from its entries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["DELAY", "later", "release_later"]

DELAY = 0.005
"""Seconds from a first page's answer to the work it left."""


def later(callback: Callable[..., object], *args: Any) -> asyncio.TimerHandle:
    """Run ``callback(*args)`` ``DELAY`` seconds from now on the running event loop."""
    return asyncio.get_running_loop().call_later(DELAY, callback, *args)


def release_later(*objects: object) -> None:
    """Keep ``objects`` alive until ``DELAY`` from now, so they are freed then rather than now."""
    later(_release, objects)


def _release(objects: tuple[object, ...]) -> None:
    """Nothing: the timer dropping its arguments after this call is what frees ``objects``."""

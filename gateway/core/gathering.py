"""Run awaitables concurrently and wait for every one of them, even when one fails.

``asyncio.gather`` without ``return_exceptions`` raises the first failure and stops waiting: the
other awaitables run on unattended, still calling providers after the request has been answered, and
their outcomes are dropped.  :func:`gather_settled` lets every awaitable finish, retrieves every
outcome, and then raises the first failure in argument order, so a batch ends as a whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

__all__ = ["gather_settled"]

T = TypeVar("T")


async def gather_settled(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """The results in order, once all have finished; the first exception (in order) if any failed."""
    outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
    results: list[T] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        results.append(outcome)
    return results

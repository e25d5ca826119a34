"""Whether the gateway can answer now: what ``/readyz`` reports.

Ready means at least one configured provider can be used and every configured store answers.  A
provider cannot be used while its circuit is open, after it refused the gateway's credentials (until
a call succeeds again), or, at Constant Contact, while the daily request budget is spent; a store
cannot when its check fails within the timeout (the gateway's database; Redis, when configured).
Each reason is reported, so an operator reads why, not only that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from .model import Provider
from .ports import DeletedContactsPort

__all__ = ["Readiness", "StoreCheck", "assess"]

StoreCheck = Callable[[float], Awaitable[str | None]]
"""``await check(timeout)``: None when the store can be used, else why not."""


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: list[str]
    providers: dict[str, dict[str, object]] = field(default_factory=dict)


async def assess(
    ports: Mapping[Provider, DeletedContactsPort], stores: Mapping[str, StoreCheck], *, timeout: float
) -> Readiness:
    reasons: list[str] = []
    report: dict[str, dict[str, object]] = {}
    usable = 0
    for provider in Provider:
        if provider not in ports:
            report[provider.name] = {"configured": False}
            continue
        health = ports[provider].health()
        report[provider.name] = {
            "configured": True,
            "healthy": health.healthy,
            "circuit": health.circuit_state,
            "budgetRemaining": health.budget_remaining,
            "problems": list(health.problems),
        }
        usable += health.healthy
        reasons += [f"{provider.name}: {problem}" for problem in health.problems]
    if not ports:
        reasons.append("no provider is configured")
    elif not usable:
        reasons.append("no configured provider can be used")
    names = list(stores)
    answers = await asyncio.gather(*(stores[name](timeout) for name in names))
    reasons += [f"{name}: {why}" for name, why in zip(names, answers, strict=True) if why is not None]
    store_down = any(why is not None for why in answers)
    return Readiness(ready=usable > 0 and not store_down, reasons=reasons, providers=report)

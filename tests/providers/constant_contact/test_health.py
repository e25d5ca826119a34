"""Constant Contact's health as readiness reads it: a spent daily budget is a problem until the
budget resets at midnight UTC, and then it is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.providers.constant_contact.adapter import ConstantContactAdapter

from .conftest import ClientFactory


class Now:
    def __init__(self) -> None:
        self.value = datetime(2026, 12, 3, 23, 59, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.value


async def test_a_spent_budget_is_a_problem_until_it_resets(make_client: ClientFactory) -> None:
    now = Now()
    adapter = ConstantContactAdapter(make_client(daily_quota=1, now=now))
    assert adapter.health().problems == ()
    adapter.client.allowance.budget.consume()  # the per-process allowance keeps a DailyBudget
    health = adapter.health()
    assert not health.healthy and health.problems == ("daily request budget spent",)
    now.value += timedelta(minutes=2)  # past 00:00 UTC: a new day's budget
    health = adapter.health()
    assert health.healthy and health.problems == () and health.budget_remaining == 1

"""The Constant Contact client's rate limit, daily quota and retry rules on a fake clock.

The client takes ``clock`` (its limiter's), ``now`` (its daily budget's) and ``sleep`` (every wait);
here they are fakes, so each request's send time is exact and nothing waits.  The upstream is
``httpx.MockTransport``, which records every request the client sends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.providers.constant_contact import ConstantContactClient
from gateway.providers.errors import ProviderError, RateLimited

from .conftest import ClientFactory, oauth
from .test_records import DELETED_CONTACT

CONTACT_ID = DELETED_CONTACT["contact_id"]
LIST_A = "07936f78-662a-11eb-af0a-fa163e56c9b0"
ACTIVITY = {"activity_id": "a1", "state": "initialized"}


class VirtualTime:
    """A monotonic clock and a sleep that moves it: a sleeper wakes at its call time plus its wait."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class StillTime(VirtualTime):
    """Time that stands still while concurrent callers queue: each sleep is recorded, none advances."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _answer(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        return httpx.Response(201, json=ACTIVITY)
    if request.url.path.startswith("/v3/activities/"):
        return httpx.Response(200, json=ACTIVITY)
    if request.url.path == "/v3/contact_lists":
        return httpx.Response(200, json={"lists": []})
    if request.method == "DELETE":
        return httpx.Response(204)
    return httpx.Response(200, json=DELETED_CONTACT)


class Upstream:
    """Answers every request (with ``fault`` where it applies) and keeps each with its send time."""

    def __init__(self, time: VirtualTime, fault: Callable[[httpx.Request], httpx.Response | None]) -> None:
        self.time = time
        self.fault = fault
        self.sent: list[tuple[float, httpx.Request]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((self.time.now, request))
        return self.fault(request) or _answer(request)

    @property
    def requests(self) -> list[httpx.Request]:
        return [request for _, request in self.sent]


def _client(
    make_client: ClientFactory,
    time: VirtualTime,
    fault: Callable[[httpx.Request], httpx.Response | None] = lambda request: None,
    **overrides: Any,
) -> tuple[ConstantContactClient, Upstream]:
    upstream = Upstream(time, fault)
    options: dict[str, Any] = {"rate_per_second": 4.0, "clock": time.clock, "sleep": time.sleep, **overrides}
    return make_client(httpx.MockTransport(upstream), **options), upstream


# -- the limiter -------------------------------------------------------------------------------------


async def test_sequential_calls_go_out_exactly_one_interval_apart(make_client: ClientFactory) -> None:
    time = VirtualTime(1000.0)
    client, upstream = _client(make_client, time)
    for _ in range(9):
        await client.get_contact(CONTACT_ID)
    assert [at for at, _ in upstream.sent] == pytest.approx([1000.0 + 0.25 * k for k in range(9)])


async def test_after_an_idle_spell_one_call_goes_at_once_and_the_next_waits_a_full_interval(
    make_client: ClientFactory,
) -> None:
    """CC's bucket holds 4 but its per-second window does not forgive a pair: burst 1 is the rule."""
    time = VirtualTime(0.0)
    client, upstream = _client(make_client, time)
    await client.get_contact(CONTACT_ID)
    time.now += 60.0
    await client.get_contact(CONTACT_ID)
    await client.get_contact(CONTACT_ID)
    assert [at for at, _ in upstream.sent] == pytest.approx([0.0, 60.0, 60.25])
    assert time.sleeps == pytest.approx([0.25])


async def test_fifty_concurrent_calls_after_an_idle_spell_are_spaced_with_no_extra_request(
    make_client: ClientFactory,
) -> None:
    time = StillTime(0.0)
    client, upstream = _client(make_client, time)
    time.now = 3600.0  # idle for an hour: the bucket is as full as it gets
    contacts = await asyncio.gather(*(client.get_contact(CONTACT_ID) for _ in range(50)))
    assert {c.contact_id for c in contacts} == {CONTACT_ID}
    assert len(upstream.sent) == 50
    # Exactly one call went at once; the k-th waited k intervals.  In any second at 4/s: at most 4.
    assert sorted(time.sleeps) == pytest.approx([0.25 * k for k in range(1, 50)])
    send_times = [3600.0] + [3600.0 + wait for wait in time.sleeps]
    assert max(sum(1 for u in send_times if t <= u < t + 1.0 - 1e-9) for t in send_times) == 4


async def test_the_limiter_runs_outside_the_retry_budget(make_client: ClientFactory) -> None:
    """A queue behind our own limiter is not the provider failing: no retry, no breaker count."""
    time = StillTime(0.0)
    client, upstream = _client(make_client, time)
    await asyncio.gather(*(client.delete_contact(CONTACT_ID) for _ in range(30)))
    assert len(upstream.requests) == 30 and client.stats.retries == 0
    assert client.breaker.consecutive_failures == 0


# -- the daily quota ---------------------------------------------------------------------------------


class Now:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def test_the_daily_quota_admits_its_limit_and_resets_at_midnight_utc(
    make_client: ClientFactory,
) -> None:
    now = Now(datetime(2024, 5, 31, 23, 59, 58, tzinfo=UTC))
    client, upstream = _client(make_client, VirtualTime(), daily_quota=3, now=now)
    for _ in range(3):
        await client.get_contact(CONTACT_ID)
    with pytest.raises(RateLimited) as caught:
        await client.delete_contact(CONTACT_ID)
    assert caught.value.kind == "quota_exceeded" and caught.value.retry_after == 2.0
    assert caught.value.reset_at == datetime(2024, 6, 1, tzinfo=UTC)
    assert len(upstream.requests) == 3  # the fourth never left

    now.at = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    await client.delete_contact(CONTACT_ID)
    assert len(upstream.requests) == 4 and client.allowance.remaining == 2


async def test_a_resend_after_a_token_refresh_is_charged_to_the_quota(make_client: ClientFactory) -> None:
    """Two requests leave, so two are counted: CC counts what it receives."""
    time = VirtualTime()
    answers = [httpx.Response(401, json={"error_key": "unauthorized", "error_message": "Unauthorized"})]

    def fault(request: httpx.Request) -> httpx.Response | None:
        return answers.pop(0) if answers and request.url.path.startswith("/v3/") else None

    token = {"access_token": "fresh", "refresh_token": "r2", "token_type": "Bearer", "expires_in": 3600}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json=token)
        return upstream(request)

    upstream = Upstream(time, fault)
    client = make_client(
        httpx.MockTransport(handler), refresh=oauth("https://auth.cc.example/oauth2/default/v1/token"),
        clock=time.clock, sleep=time.sleep, rate_per_second=4.0, daily_quota=10,
    )  # fmt: skip
    await client.get_contact(CONTACT_ID)
    assert len(upstream.requests) == 2 and client.allowance.remaining == 8
    assert upstream.requests[1].headers["authorization"] == "Bearer fresh"


# -- the retry rule per error kind and per operation -----------------------------------------------------


def _error(status: int, key: str | None = None, retry_after: str | None = None) -> httpx.Response:
    body = [{"error_key": key, "error_message": "x"}] if key else None
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return (
        httpx.Response(status, json=body, headers=headers)
        if body
        else httpx.Response(status, headers=headers)
    )


def _raise(kind: type[httpx.TransportError]) -> Callable[[], httpx.Response]:
    def fail() -> httpx.Response:
        raise kind("upstream went away")

    return fail


# kind -> (the answer, retried for an idempotent call, retried for a bulk POST)
KINDS: dict[str, tuple[Callable[[], httpx.Response], bool, bool]] = {
    "500": (lambda: _error(500, "server.error"), True, False),
    "503": (lambda: _error(503), True, False),
    "read_timeout": (_raise(httpx.ReadTimeout), True, False),
    "connect_error": (_raise(httpx.ConnectError), True, False),
    "not_json": (lambda: httpx.Response(200, content=b"<html>"), True, False),
    "throttled_429": (lambda: _error(429, "throttled", "0"), True, True),
    "unlabelled_429": (lambda: _error(429, retry_after="0"), True, True),
    "quota_429": (lambda: _error(429, "quota_exceeded", "0"), False, False),
    "400": (lambda: _error(400, "contacts.api.validation.error"), False, False),
    "401": (lambda: _error(401, "unauthorized"), False, False),
    "403": (lambda: _error(403, "forbidden"), False, False),
    "404": (lambda: _error(404, "contacts.api.not_found"), False, False),
    "409": (lambda: _error(409, "contacts.api.conflict"), False, False),
}

Operation = Callable[[ConstantContactClient], Awaitable[object]]


async def _pages(client: ConstantContactClient) -> object:
    return [page async for page in client.iter_contact_pages(status=("deleted",))]


# operation -> (method, path of the request the fault is aimed at, idempotent)
OPERATIONS: dict[str, tuple[Operation, str, str, bool]] = {
    "get_contact": (lambda c: c.get_contact(CONTACT_ID), "GET", f"/v3/contacts/{CONTACT_ID}", True),
    "contact_pages": (_pages, "GET", "/v3/contacts", True),
    "contact_lists": (lambda c: c.list_contact_lists(), "GET", "/v3/contact_lists", True),
    "get_activity": (lambda c: c.get_activity("a1"), "GET", "/v3/activities/a1", True),
    "delete_contact": (lambda c: c.delete_contact(CONTACT_ID), "DELETE", f"/v3/contacts/{CONTACT_ID}", True),
    "restore_put": (
        lambda c: c.restore_contact(CONTACT_ID, [LIST_A]),
        "PUT",
        f"/v3/contacts/{CONTACT_ID}",
        True,
    ),
    "bulk_delete": (
        lambda c: c.start_bulk_delete([CONTACT_ID]),
        "POST",
        "/v3/activities/contact_delete",
        False,
    ),
    "bulk_restore": (
        lambda c: c.start_bulk_restore([CONTACT_ID], [LIST_A]),
        "POST",
        "/v3/activities/add_list_memberships",
        False,
    ),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_the_retry_rule_per_operation_and_error_kind(
    make_client: ClientFactory, operation: str, kind: str
) -> None:
    run, method, path, idempotent = OPERATIONS[operation]
    answer, retried_if_idempotent, retried_if_post = KINDS[kind]

    def fault(request: httpx.Request) -> httpx.Response | None:
        return answer() if (request.method, request.url.path) == (method, path) else None

    time = VirtualTime()
    client, upstream = _client(make_client, time, fault)
    with pytest.raises(ProviderError):
        await run(client)
    aimed = [r for r in upstream.requests if (r.method, r.url.path) == (method, path)]
    retried = retried_if_idempotent if idempotent else retried_if_post
    assert len(aimed) == (3 if retried else 1)
    assert client.stats.retries == len(aimed) - 1


async def test_a_bulk_post_refused_for_the_daily_quota_is_not_repeated(make_client: ClientFactory) -> None:
    """A quota 429 says "not today": the POST is not sent again and nothing is waited for."""
    time = VirtualTime()
    client, upstream = _client(
        make_client, time, lambda request: _error(429, "quota_exceeded", "0"), rate_per_second=1e6
    )
    with pytest.raises(RateLimited) as caught:
        await client.start_bulk_delete([CONTACT_ID])
    assert caught.value.kind == "quota_exceeded"
    assert len(upstream.requests) == 1 and client.stats.retries == 0 and time.sleeps == []
    assert client.allowance.remaining == 0


async def test_a_bulk_post_throttled_twice_is_sent_three_times_with_the_providers_waits(
    make_client: ClientFactory,
) -> None:
    answers = [_error(429, "throttled", "0.75"), _error(429, "throttled", "0.25")]
    time = VirtualTime()
    client, upstream = _client(
        make_client, time, lambda request: answers.pop(0) if answers else None, rate_per_second=1e6
    )
    (activity,) = await client.start_bulk_delete([CONTACT_ID])
    assert activity.activity_id == "a1"
    assert [json.loads(r.content) for r in upstream.requests] == [{"contact_ids": [CONTACT_ID]}] * 3
    assert time.sleeps == [0.75, 0.25] and client.stats.retries == 2


async def test_a_bulk_post_throttled_past_the_retry_budget_is_given_up(make_client: ClientFactory) -> None:
    time = VirtualTime()
    client, upstream = _client(
        make_client, time, lambda request: _error(429, "throttled", "30"), rate_per_second=1e6
    )
    with pytest.raises(RateLimited) as caught:
        await client.start_bulk_restore([CONTACT_ID], [LIST_A])
    assert caught.value.kind == "throttled" and caught.value.retry_after == 30.0
    assert len(upstream.requests) == 1 and time.sleeps == []

"""The client against ``httpx.MockTransport``: exact requests, every error shape, retry rules, bulk, waits.

These cover answers an emulator is not meant to produce (odd cursors, foreign next links, HTML 502s,
an OAuth-style error body) and pin the requests the client sends byte for byte.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from gateway.core.deadlines import request_deadline
from gateway.core.model import Provider
from gateway.errors import UserInputError
from gateway.providers.constant_contact.client import restore_body
from gateway.providers.constant_contact.records import Contact
from gateway.providers.errors import (
    AuthenticationFailed,
    CircuitOpen,
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidUpstreamResponse,
    NotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestNotSendable,
    ValidationFailed,
)
from gateway.providers.resilience import CircuitBreaker, Timeouts

from .conftest import ACCESS_TOKEN, ClientFactory
from .test_records import DELETED_CONTACT, FULL_CONTACT

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
CONTACT_ID = DELETED_CONTACT["contact_id"]
LIST_A = "07936f78-662a-11eb-af0a-fa163e56c9b0"
LIST_B = "960a7193-7348-499d-ab05-9e8378283798"


class Recorder:
    """A scripted upstream: answers come from ``respond`` (or a queue) and every request is kept."""

    def __init__(
        self, respond: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
    ) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.respond(request)
        return await answer if not isinstance(answer, httpx.Response) else answer

    @classmethod
    def queue(cls, *answers: httpx.Response) -> Recorder:
        pending = list(answers)
        return cls(lambda request: pending.pop(0))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def page(contacts: list[dict[str, Any]], next_href: str | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"contacts": contacts, **extra}
    if next_href is not None:
        body["_links"] = {"next": {"href": next_href}}
    return httpx.Response(200, json=body)


def contact(number: int) -> dict[str, Any]:
    return {**DELETED_CONTACT, "contact_id": f"00000000-0000-0000-0000-{number:012d}"}


# -- paging ------------------------------------------------------------------------------------------


async def test_first_request_carries_the_filters_and_the_bearer_token(make_client: ClientFactory) -> None:
    upstream = Recorder.queue(page([contact(1)], contacts_count=1))
    client = make_client(upstream.transport())
    pages = [
        p
        async for p in client.iter_contact_pages(
            status=("deleted",),
            limit=500,
            email="a@b.example",
            created_after=datetime(2024, 1, 1, tzinfo=UTC),
            created_before=date(2024, 2, 1),
            updated_after=datetime(2024, 1, 5, 12, 30),
            include=("list_memberships",),
            include_count=True,
        )
    ]
    assert [c.contact_id for p in pages for c in p.contacts] == [contact(1)["contact_id"]]
    assert pages[0].contacts_count == 1
    (request,) = upstream.requests
    assert request.method == "GET"
    assert (request.url.scheme, request.url.host, request.url.path) == (
        "https",
        "api.cc.email",
        "/v3/contacts",
    )
    assert dict(request.url.params) == {
        "limit": "500",
        "status": "deleted",
        "email": "a@b.example",
        "created_after": "2024-01-01T00:00:00Z",
        "created_before": "2024-02-01T00:00:00Z",
        "updated_after": "2024-01-05T12:30:00Z",
        "include": "list_memberships",
        "include_count": "true",
    }
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["accept"] == "application/json"


async def test_paging_follows_next_href_byte_for_byte_until_it_is_absent(make_client: ClientFactory) -> None:
    odd_cursors = [
        "/v3/contacts?cursor=bGltaXQ9MSZuZXh0PTI%3D&limit=2",
        "/v3/contacts?cursor=a+b==/%2Fc&status=deleted",
    ]
    upstream = Recorder.queue(
        page([contact(1), contact(2)], odd_cursors[0]),
        page([contact(3), contact(4)], odd_cursors[1]),
        page([contact(5)]),
    )
    client = make_client(upstream.transport(), base_url="https://api.cc.email/v3/")
    seen = [
        c.contact_id
        async for p in client.iter_contact_pages(status=("deleted",), limit=2)
        for c in p.contacts
    ]
    assert seen == [contact(n)["contact_id"] for n in range(1, 6)]
    assert [r.url.raw_path.decode() for r in upstream.requests[1:]] == odd_cursors
    assert all(r.url.host == "api.cc.email" for r in upstream.requests)


async def test_an_absolute_next_link_on_the_api_host_is_followed(make_client: ClientFactory) -> None:
    upstream = Recorder.queue(page([contact(1)], "https://api.cc.email/v3/contacts?cursor=x"), page([]))
    client = make_client(upstream.transport())
    assert len([p async for p in client.iter_contact_pages()]) == 2
    assert upstream.requests[1].url.raw_path == b"/v3/contacts?cursor=x"


@pytest.mark.parametrize(
    "href",
    [
        "https://evil.example/v3/contacts?cursor=x",
        "//evil.example/v3/contacts",
        "/v2/contacts?cursor=x",
        "cursor=x",
    ],
)
async def test_a_next_link_off_the_api_is_refused_and_never_fetched(
    make_client: ClientFactory, href: str
) -> None:
    upstream = Recorder.queue(page([contact(1)], href))
    client = make_client(upstream.transport())
    with pytest.raises(InvalidUpstreamResponse, match="next-page link"):
        [p async for p in client.iter_contact_pages()]
    assert len(upstream.requests) == 1  # the bearer token never went to another host


async def test_a_next_link_that_loops_is_an_invalid_response(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda request: page([contact(1)], "/v3/contacts?cursor=same"))
    client = make_client(upstream.transport())
    with pytest.raises(InvalidUpstreamResponse, match="repeats"):
        [p async for p in client.iter_contact_pages()]
    assert len(upstream.requests) == 2  # page 2 links to itself: caught before fetching it again


@pytest.mark.parametrize(
    "kwargs", [{"limit": 0}, {"limit": 501}, {"status": ("gone",)}, {"include": ("everything",)}]
)
async def test_bad_arguments_are_refused_before_any_request(make_client: ClientFactory, kwargs: Any) -> None:
    upstream = Recorder.queue()
    client = make_client(upstream.transport())
    with pytest.raises(ValueError):
        [p async for p in client.iter_contact_pages(**kwargs)]
    assert upstream.requests == []


async def test_find_by_email_collects_every_page(make_client: ClientFactory) -> None:
    upstream = Recorder.queue(page([contact(1)], "/v3/contacts?cursor=2"), page([contact(2)]))
    client = make_client(upstream.transport())
    found = await client.find_contacts_by_email("example@example.com")
    assert [c.contact_id for c in found] == [contact(1)["contact_id"], contact(2)["contact_id"]]
    assert dict(upstream.requests[0].url.params) == {
        "limit": "500",
        "status": "all",
        "email": "example@example.com",
    }


async def test_contact_lists_follow_every_page(make_client: ClientFactory) -> None:
    first = {
        "lists": [{"list_id": LIST_A, "name": "A", "membership_count": 3}],
        "_links": {"next": {"href": "/v3/contact_lists?cursor=n"}},
    }
    second = {"lists": [{"list_id": LIST_B, "name": "B"}]}
    upstream = Recorder.queue(httpx.Response(200, json=first), httpx.Response(200, json=second))
    client = make_client(upstream.transport())
    lists = await client.list_contact_lists()
    assert [(item.list_id, item.name, item.membership_count) for item in lists] == [
        (LIST_A, "A", 3),
        (LIST_B, "B", None),
    ]
    assert upstream.requests[0].url.path == "/v3/contact_lists"
    assert dict(upstream.requests[0].url.params) == {"limit": "500", "include_membership_count": "all"}
    assert upstream.requests[1].url.raw_path == b"/v3/contact_lists?cursor=n"


# -- errors: every shape ------------------------------------------------------------------------------


def _array(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"error_key": key, "error_message": message} for key, message in pairs]


ERROR_CASES = [
    pytest.param(
        400,
        _array(
            ("contacts.api.validation.error", "first_name too long"),
            ("contacts.api.validation.error", "limit must be <= 500"),
        ),
        ValidationFailed,
        "first_name too long; limit must be <= 500",
        id="400-array-of-two",
    ),
    pytest.param(
        400,
        {"error_key": "contacts.api.validation.error", "error_message": "Bad JSON"},
        ValidationFailed,
        "Bad JSON",
        id="400-single-object",
    ),
    pytest.param(
        415,
        _array(("unsupported.media.type", "Content-Type must be application/json")),
        ValidationFailed,
        "Content-Type must be application/json",
        id="415",
    ),
    pytest.param(
        401,
        {"error_key": "unauthorized", "error_message": "Unauthorized"},
        AuthenticationFailed,
        "Unauthorized",
        id="401-object",
    ),
    pytest.param(
        401, _array(("unauthorized", "Unauthorized")), AuthenticationFailed, "Unauthorized", id="401-array"
    ),
    pytest.param(
        403,
        _array(("forbidden", "You lack the necessary scopes")),
        Forbidden,
        "You lack the necessary scopes",
        id="403",
    ),
    pytest.param(
        404,
        _array(("contacts.api.not_found", "contact_id is in an invalid format.")),
        NotFound,
        "contact_id is in an invalid format.",
        id="404-array",
    ),
    pytest.param(404, None, NotFound, "HTTP 404", id="404-empty-body"),
    pytest.param(
        500,
        {"error_key": "server.error", "error_message": "Internal error"},
        ProviderUnavailable,
        "Internal error",
        id="500",
    ),
    pytest.param(
        502, "<html><body>Bad Gateway</body></html>", ProviderUnavailable, "HTTP 502", id="502-html"
    ),
    pytest.param(
        503,
        {"error": "temporarily_unavailable", "error_description": "down for maintenance"},
        ProviderUnavailable,
        "down for maintenance",
        id="503-oauth-style",
    ),
    pytest.param(302, None, InvalidUpstreamResponse, "unexpected HTTP 302", id="302-redirect"),
]


@pytest.mark.parametrize(("status", "body", "error_type", "message"), ERROR_CASES)
async def test_error_shapes_map_to_typed_errors(
    make_client: ClientFactory, status: int, body: Any, error_type: type[ProviderError], message: str
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)

    client = make_client(Recorder(answer).transport())
    with pytest.raises(error_type) as caught:
        await client.get_contact(CONTACT_ID)
    error = caught.value
    assert type(error) is error_type
    assert error.message == message
    assert error.status_code == status and error.provider is Provider.CONSTANT_CONTACT


async def test_validation_keeps_every_detail(make_client: ClientFactory) -> None:
    body = _array(("contacts.api.validation.error", "one"), ("contacts.api.validation.error", "two"))
    client = make_client(Recorder(lambda r: httpx.Response(400, json=body)).transport())
    with pytest.raises(ValidationFailed) as caught:
        await client.delete_contact(CONTACT_ID)
    assert caught.value.details == (
        ErrorDetail("contacts.api.validation.error", "one"),
        ErrorDetail("contacts.api.validation.error", "two"),
    )


@pytest.mark.parametrize(
    ("message", "existing_id"),
    [
        (
            "Validation failed: Email already exists for contact 04FE9A97-A579-43C5-BB1A-58ED29BF0A6A",
            "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a",
        ),
        ("Validation failed: EmailAddress is not unique", None),
    ],
)
async def test_conflict_names_the_existing_contact_when_cc_does(
    make_client: ClientFactory, message: str, existing_id: str | None
) -> None:
    upstream = Recorder.queue(
        httpx.Response(200, json=DELETED_CONTACT),
        httpx.Response(409, json=_array(("contacts.api.conflict", message))),
    )
    client = make_client(upstream.transport())
    with pytest.raises(Conflict) as caught:
        await client.restore_contact(CONTACT_ID, [LIST_A])
    assert caught.value.existing_id == existing_id
    assert caught.value.message == message
    assert [r.method for r in upstream.requests] == ["GET", "PUT"]  # a 409 is an answer, not retried


async def test_throttled_429_is_retried_with_retry_after_then_succeeds(make_client: ClientFactory) -> None:
    throttled = {"error_key": "throttled", "error_message": "Too Many Requests"}
    upstream = Recorder.queue(
        httpx.Response(429, json=throttled, headers={"Retry-After": "0.01"}),
        httpx.Response(429, json=[throttled]),
        httpx.Response(200, json=DELETED_CONTACT),
    )
    client = make_client(upstream.transport())
    assert (await client.get_contact(CONTACT_ID)).contact_id == CONTACT_ID
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert client.breaker.state == "closed" and client.breaker.consecutive_failures == 0


async def test_throttled_429s_that_last_end_as_rate_limited(make_client: ClientFactory) -> None:
    upstream = Recorder(
        lambda r: httpx.Response(
            429,
            json={"error_key": "throttled", "error_message": "Too Many Requests"},
            headers={"Retry-After": "0"},
        )
    )
    client = make_client(upstream.transport())
    with pytest.raises(RateLimited) as caught:
        await client.get_contact(CONTACT_ID)
    assert (caught.value.kind, caught.value.retry_after) == ("throttled", 0.0)
    assert len(upstream.requests) == 3 and client.stats.retries == 2
    assert client.breaker.consecutive_failures == 0  # a 429 says nothing about the provider's health


async def test_quota_exceeded_fails_fast_with_the_reset_time(make_client: ClientFactory) -> None:
    upstream = Recorder(
        lambda r: httpx.Response(
            429, json=[{"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}]
        )
    )
    client = make_client(upstream.transport())
    with pytest.raises(RateLimited) as caught:
        await client.get_contact(CONTACT_ID)
    error = caught.value
    tomorrow = datetime.now(UTC).date().toordinal() + 1
    assert error.kind == "quota_exceeded" and error.message == "Limit Exceeded"
    assert error.reset_at is not None and error.reset_at.date().toordinal() == tomorrow
    assert error.reset_at.time() == datetime.min.time() and error.reset_at.tzinfo is not None
    assert error.retry_after is not None and 0 < error.retry_after <= 86_400
    assert len(upstream.requests) == 1  # not retried
    assert client.allowance.remaining == 0

    with pytest.raises(RateLimited) as again:
        await client.get_contact(CONTACT_ID)
    assert again.value.kind == "quota_exceeded" and again.value.reset_at == error.reset_at
    assert len(upstream.requests) == 1  # the spent budget fails fast, without asking CC again


async def test_the_daily_budget_counts_every_request_and_stops_at_the_limit(
    make_client: ClientFactory,
) -> None:
    upstream = Recorder(lambda r: httpx.Response(200, json=DELETED_CONTACT))
    client = make_client(upstream.transport(), daily_quota=3)
    for _ in range(3):
        await client.get_contact(CONTACT_ID)
    assert client.allowance.remaining == 0
    with pytest.raises(RateLimited) as caught:
        await client.get_contact(CONTACT_ID)
    assert caught.value.kind == "quota_exceeded"
    assert len(upstream.requests) == 3


# -- retry rules ---------------------------------------------------------------------------------------


async def test_idempotent_calls_are_retried_after_5xx_and_broken_bodies(make_client: ClientFactory) -> None:
    upstream = Recorder.queue(
        httpx.Response(503, json={"error_key": "x", "error_message": "busy"}),
        httpx.Response(200, content=b'{"contact_id": '),
        httpx.Response(204),
    )
    client = make_client(upstream.transport())
    await client.delete_contact(CONTACT_ID)
    assert [r.method for r in upstream.requests] == ["DELETE"] * 3
    assert upstream.requests[0].url.path == f"/v3/contacts/{CONTACT_ID}"
    assert (client.stats.attempts, client.stats.retries) == (3, 2)
    assert client.breaker.consecutive_failures == 0


async def test_a_body_of_the_wrong_shape_is_retried_then_reported(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(200, json={"contact_id": 7}))
    client = make_client(upstream.transport())
    with pytest.raises(InvalidUpstreamResponse):
        await client.get_contact(CONTACT_ID)
    assert len(upstream.requests) == 3 and client.breaker.consecutive_failures == 3


async def test_a_bulk_activity_post_is_never_retried_after_a_5xx(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(503, json={"error_key": "x", "error_message": "busy"}))
    client = make_client(upstream.transport())
    with pytest.raises(ProviderUnavailable):
        await client.start_bulk_delete([CONTACT_ID])
    assert len(upstream.requests) == 1 and client.stats.retries == 0


async def test_a_bulk_activity_post_is_never_retried_after_a_timeout(make_client: ClientFactory) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(201)

    upstream = Recorder(slow)
    client = make_client(upstream.transport(), timeouts=_timeouts(0.05))
    with pytest.raises(ProviderTimeout):
        await client.start_bulk_restore([CONTACT_ID], [LIST_A])
    assert len(upstream.requests) == 1


async def test_a_bulk_activity_post_is_retried_after_a_throttled_429(make_client: ClientFactory) -> None:
    activity = {"activity_id": "a1", "state": "initialized"}
    upstream = Recorder.queue(
        httpx.Response(429, json={"error_key": "throttled", "error_message": "Too Many Requests"}),
        httpx.Response(201, json=activity),
    )
    client = make_client(upstream.transport())
    (started,) = await client.start_bulk_delete([CONTACT_ID])
    assert started.activity_id == "a1" and len(upstream.requests) == 2 and client.stats.retries == 1


async def test_timeouts_are_retried_and_open_the_breaker(make_client: ClientFactory) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=DELETED_CONTACT)

    upstream = Recorder(slow)
    breaker = CircuitBreaker(Provider.CONSTANT_CONTACT, failure_threshold=3, reset_timeout=60)
    client = make_client(upstream.transport(), timeouts=_timeouts(0.05), breaker=breaker)
    with pytest.raises(ProviderTimeout):
        await client.get_contact(CONTACT_ID)
    assert len(upstream.requests) == 3 and breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        await client.get_contact(CONTACT_ID)
    assert caught.value.retry_after is not None and caught.value.retry_after > 59
    assert len(upstream.requests) == 3  # failed fast


async def test_transport_errors_become_unavailable_after_retries(make_client: ClientFactory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    upstream = Recorder(refuse)
    client = make_client(upstream.transport())
    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        await client.list_contact_lists()
    assert len(upstream.requests) == 3 and client.breaker.consecutive_failures == 3


def _timeouts(total: float) -> Timeouts:
    return Timeouts(connect=total, read=total, total=total)


# -- writes, bulk, waits -------------------------------------------------------------------------------


def test_restore_body_puts_every_core_field_back() -> None:
    body = restore_body(Contact.from_json(FULL_CONTACT), [LIST_A, LIST_B, LIST_A])
    assert body == {
        "update_source": "Account",
        "list_memberships": [LIST_A, LIST_B],
        "email_address": {
            "address": "dlang@example.com",
            "permission_to_send": "implicit",
            "opt_out_reason": "I am no longer interested in this service.",
        },
        "first_name": "Debora",
        "last_name": "Lang",
        "job_title": "Musician",
        "company_name": "Acme Corp.",
        "anniversary": "2006-11-15",
        "birthday_month": 11,
        "birthday_day": 24,
    }
    with pytest.raises(ValueError):
        restore_body(Contact.from_json(FULL_CONTACT), [])
    with pytest.raises(ValueError):
        restore_body(Contact.from_json(FULL_CONTACT), [f"list-{n}" for n in range(51)])


async def test_restore_reads_then_puts(make_client: ClientFactory) -> None:
    revived = {**DELETED_CONTACT, "deleted_at": None, "list_memberships": [LIST_A]}
    upstream = Recorder.queue(httpx.Response(200, json=DELETED_CONTACT), httpx.Response(200, json=revived))
    client = make_client(upstream.transport())
    restored = await client.restore_contact(CONTACT_ID, [LIST_A])
    assert restored.deleted_at is None and restored.list_memberships == (LIST_A,)
    get, put = upstream.requests
    assert (get.method, get.url.path, put.method, put.url.path) == (
        "GET",
        f"/v3/contacts/{CONTACT_ID}",
        "PUT",
        f"/v3/contacts/{CONTACT_ID}",
    )
    assert put.headers["content-type"] == "application/json"
    assert json.loads(put.content) == {
        "update_source": "Account",
        "list_memberships": [LIST_A],
        "email_address": {"address": "example@example.com", "permission_to_send": "implicit"},
        "first_name": "John",
        "last_name": "Byrd",
    }


async def test_restore_of_a_missing_contact_is_not_found(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(404, json=_array(("contacts.api.not_found", "Not found"))))
    client = make_client(upstream.transport())
    with pytest.raises(NotFound):
        await client.restore_contact(CONTACT_ID, [LIST_A])
    assert [r.method for r in upstream.requests] == ["GET"]


async def test_ids_in_paths_are_escaped(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(404))
    client = make_client(upstream.transport())
    with pytest.raises(NotFound):
        await client.get_contact("../contact_lists?x=1")
    assert upstream.requests[0].url.raw_path == b"/v3/contacts/%2E%2E%2Fcontact_lists%3Fx%3D1"


@pytest.mark.parametrize(("contact_id", "path"), [(".", b"/v3/contacts/%2E"), ("..", b"/v3/contacts/%2E%2E")])
async def test_a_dot_id_stays_one_path_segment(
    make_client: ClientFactory, contact_id: str, path: bytes
) -> None:
    """Unencoded, ``/v3/contacts/.`` is normalised to ``/v3/contacts`` (the collection)."""
    upstream = Recorder(lambda r: httpx.Response(404))
    client = make_client(upstream.transport())
    with pytest.raises(NotFound):
        await client.delete_contact(contact_id)
    assert [(r.method, r.url.raw_path) for r in upstream.requests] == [("DELETE", path)]


async def test_an_empty_id_or_email_is_never_sent(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(204))
    client = make_client(upstream.transport())
    with pytest.raises(UserInputError):
        await client.delete_contact("")
    for email in ("", "  "):
        with pytest.raises(ValueError):
            await client.find_contacts_by_email(email)
    assert upstream.requests == []


async def test_bulk_calls_are_chunked_at_500_in_order(make_client: ClientFactory) -> None:
    bodies: list[Any] = []

    def started(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"activity_id": f"act-{len(bodies)}", "state": "initialized"})

    upstream = Recorder(started)
    client = make_client(upstream.transport())
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1201)]  # CC's contact ids are UUIDs
    deletes = await client.start_bulk_delete(ids)
    assert [a.activity_id for a in deletes] == ["act-1", "act-2", "act-3"]
    assert [len(b["contact_ids"]) for b in bodies] == [500, 500, 201]
    assert [i for b in bodies for i in b["contact_ids"]] == ids
    assert {r.url.path for r in upstream.requests} == {"/v3/activities/contact_delete"}

    bodies.clear()
    restores = await client.start_bulk_restore(ids[:600], [LIST_A, LIST_B])
    assert len(restores) == 2
    assert bodies[1] == {"source": {"contact_ids": ids[500:600]}, "list_ids": [LIST_A, LIST_B]}
    assert upstream.requests[-1].url.path == "/v3/activities/add_list_memberships"
    assert await client.start_bulk_delete([]) == []


async def test_wait_for_activities_polls_until_done(make_client: ClientFactory) -> None:
    states = {"a1": ["initialized", "processing", "completed"], "a2": ["failed"]}

    def activity(request: httpx.Request) -> httpx.Response:
        activity_id = request.url.path.rsplit("/", 1)[1]
        remaining = states[activity_id]
        state = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return httpx.Response(200, json={"activity_id": activity_id, "state": state, "percent_done": 100})

    upstream = Recorder(activity)
    client = make_client(upstream.transport())
    done = await client.wait_for_activities(["a1", "a2"], timeout=5, first_interval=0.01)
    assert [(a.activity_id, a.state) for a in done] == [("a1", "completed"), ("a2", "failed")]
    polled = [r.url.path for r in upstream.requests]
    assert polled.count("/v3/activities/a1") == 3 and polled.count("/v3/activities/a2") == 1


async def test_wait_for_activities_returns_the_latest_state_on_timeout(make_client: ClientFactory) -> None:
    upstream = Recorder(lambda r: httpx.Response(200, json={"activity_id": "a1", "state": "processing"}))
    now = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:  # virtual time: a sleep moves the clock and returns
        sleeps.append(seconds)
        now[0] += seconds

    client = make_client(upstream.transport(), clock=lambda: now[0], sleep=sleep)
    (latest,) = await client.wait_for_activities(["a1"], timeout=0.125, first_interval=0.015625)
    assert latest.state == "processing" and not latest.done
    # Doubling intervals, the last one cut to what is left of the timeout, then one final poll.
    assert sleeps == [0.015625, 0.03125, 0.0625, 0.015625]
    assert len(upstream.requests) == 5 and now[0] == 0.125


# -- requests that cannot be built -------------------------------------------------------------------


async def test_a_url_too_long_for_httpx_is_refused_typed_and_unsent(make_client: ClientFactory) -> None:
    upstream = Recorder.queue()
    client = make_client(upstream.transport())
    budget_before = client.allowance.remaining
    address = "a" * 70_000 + "@example.com"
    for call in (
        client.find_contacts_by_email(address),
        client.get_contact("b" * 70_000),
        client.delete_contact("c" * 70_000),
    ):
        with pytest.raises(RequestNotSendable) as caught:
            await call
        assert caught.value.code == "PROVIDER_REQUEST_NOT_SENDABLE"
        assert address not in str(caught.value) and caught.value.__context__ is None
    assert upstream.requests == []
    assert client.allowance.remaining == budget_before  # nothing sent, nothing charged
    assert client.breaker.state == "closed"


async def test_waiting_for_activities_ends_quietly_at_the_deadline(
    make_client: ClientFactory,
) -> None:
    """A poll the request's deadline cuts short ends the wait with the latest states, like the timeout."""
    polls: list[str] = []

    async def activity(request: httpx.Request) -> httpx.Response:
        polls.append(request.url.path)
        if len(polls) > 1:
            await asyncio.Event().wait()  # the second poll never answers
        return httpx.Response(200, json={"activity_id": "a1", "state": "processing"})

    slow = Timeouts(connect=3.0, read=30.0, total=30.0)
    client = make_client(httpx.MockTransport(activity), timeouts=slow)
    with request_deadline(0.5):
        (latest,) = await client.wait_for_activities(["a1"], timeout=30, first_interval=0.01)
    assert latest.state == "processing" and len(polls) == 2
    with request_deadline(0.5), pytest.raises(ProviderTimeout):  # nothing seen yet: a real failure
        await client.wait_for_activities(["a1"], timeout=30, first_interval=0.01)

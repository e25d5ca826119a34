"""The async Constant Contact v3 client: the endpoints the deleted-contacts gateway needs, and nothing else.

One long-lived ``httpx.AsyncClient`` (connection pooling, keep-alive) carries every call; tests and the
composition root may hand in any ``httpx.AsyncBaseTransport`` (an ASGI emulator, a mock).

Every upstream exchange goes through the same path:

1. the token's :class:`~gateway.providers.allowance.CallAllowance` charges the daily quota (10,000/day
   by default), or the call fails fast with ``RateLimited(kind="quota_exceeded")`` and the reset time;
2. the same allowance spaces the request at the token's rate (4/s by default, no burst), so that the
   gateway never provokes a 429 in normal use however many calls are concurrent -- in this process
   only, or across every replica when the allowance is shared through Redis.  This wait happens
   *outside* the per-attempt timeout: queueing behind our own limiter is not the provider being slow;
3. the request runs under the total timeout; a 401 triggers one OAuth refresh (see ``auth``) and one
   resend;
4. the answer is parsed (both error shapes CC uses: an array of ``{error_key, error_message}`` and a
   single object) into the typed hierarchy of ``gateway.providers.errors``, or into typed records.

:func:`~gateway.providers.resilience.call_with_retries` wraps those steps: GET, PUT and DELETE are
idempotent and are retried on timeouts, dropped connections, 5xx, malformed bodies and ``throttled``
429s, with capped, jittered backoff; the circuit breaker sees every failure.  POSTs that create bulk
activities are never retried blindly (a retry after a timeout could queue the work twice); only a
``throttled`` 429, a definite "not done", is retried for them.

Secrets never leave this module in readable form: the token travels only in the ``Authorization``
header of each request (never in the client's default headers, URLs or logs), provider error texts are
scrubbed of every secret before they become exception messages, and reprs show none.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
import orjson

from gateway.core.deadlines import remaining_seconds
from gateway.core.gathering import gather_settled
from gateway.errors import UserInputError
from gateway.providers.allowance import CallAllowance, ProcessAllowance
from gateway.providers.errors import (
    AuthenticationFailed,
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
from gateway.providers.observation import (
    NO_OBSERVER,
    STATUS_TIMEOUT,
    STATUS_UNREACHABLE,
    UpstreamObserver,
)
from gateway.providers.resilience import (
    CircuitBreaker,
    RetryPolicy,
    RetryStats,
    Timeouts,
    call_with_retries,
    fits_before_deadline,
    transport_error,
)

from .auth import BearerCredentials, OAuthRefresh
from .records import (
    PROVIDER,
    Activity,
    Contact,
    ContactEntriesPage,
    ContactList,
    ContactListsPage,
    ContactsPage,
)

__all__ = [
    "BULK_CHUNK",
    "CONTACT_INCLUDES",
    "CONTACT_STATUSES",
    "MAX_PAGE_SIZE",
    "ConstantContactClient",
    "error_details",
    "error_for_response",
    "restore_body",
    "route_template",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Paged(Protocol):
    @property
    def next_href(self) -> str | None: ...


PageT = TypeVar("PageT", bound=_Paged)

MAX_PAGE_SIZE = 500
BULK_CHUNK = 500
MAX_LISTS_PER_CONTACT = 50
CONTACT_STATUSES = frozenset(
    {"all", "active", "deleted", "not_set", "pending_confirmation", "temp_hold", "unsubscribed"}
)
CONTACT_INCLUDES = frozenset(
    {"custom_fields", "list_memberships", "phone_numbers", "street_addresses", "taggings", "notes"}
)
_EXISTING_CONTACT = re.compile(
    r"contact\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.IGNORECASE
)
_MAX_MESSAGE = 500
_REDACTED = "[redacted]"

Timestamp = datetime | date | str


# -- errors ----------------------------------------------------------------------------------------


def error_details(content: bytes) -> list[ErrorDetail]:
    """Every ``{error_key, error_message}`` of an error body, whichever shape CC used.

    Documented: an array of objects (``APIErrorSchema``) and a single object (``AuthorizationErrorSchema``,
    and every 429 seen in the wild).  OAuth-style ``{error, error_description}`` is read too; anything
    else (HTML from a proxy, an empty body) yields no details.
    """
    try:
        payload: Any = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return []
    items = payload if isinstance(payload, list) else [payload]
    details = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        key = item.get("error_key", item.get("error"))
        message = item.get("error_message", item.get("error_description", item.get("message")))
        if isinstance(key, str) or isinstance(message, str):
            details.append(
                ErrorDetail(
                    key=key if isinstance(key, str) else "",
                    message=(message if isinstance(message, str) else "")[:_MAX_MESSAGE],
                )
            )
    return details


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for_response(
    response: httpx.Response,
    *,
    allowance: CallAllowance | None = None,
    scrub: Callable[[str], str] = lambda text: text,
) -> ProviderError:
    """The typed error for a non-2xx answer.  ``allowance`` learns about a spent daily quota."""
    status = response.status_code
    details = [ErrorDetail(d.key, scrub(d.message)) for d in error_details(response.content)]
    message = "; ".join(d.message for d in details if d.message) or f"HTTP {status}"
    keys = {d.key for d in details}
    if status == 401:
        return AuthenticationFailed(message, provider=PROVIDER, status_code=status)
    if status == 403:
        return Forbidden(message, provider=PROVIDER, status_code=status)
    if status == 404:
        return NotFound(message, provider=PROVIDER, status_code=status)
    if status == 409:
        match = next(filter(None, (_EXISTING_CONTACT.search(d.message) for d in details)), None)
        return Conflict(message, provider=PROVIDER, existing_id=match.group(1).lower() if match else None)
    if status == 429:
        retry_after = _retry_after(response)
        if "quota_exceeded" in keys:
            reset_at = None
            if allowance is not None:
                allowance.mark_exhausted()
                reset_at = allowance.reset_at
                if retry_after is None:
                    retry_after = max(0.0, (reset_at - datetime.now(UTC)).total_seconds())
            return RateLimited(
                message, provider=PROVIDER, kind="quota_exceeded", retry_after=retry_after, reset_at=reset_at
            )
        # "throttled", the bulk-activity queue limit, or an unlabelled 429: all are worth a later retry.
        return RateLimited(message, provider=PROVIDER, kind="throttled", retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailable(message, provider=PROVIDER, status_code=status)
    if 400 <= status < 500:
        return ValidationFailed(message, provider=PROVIDER, details=details, status_code=status)
    return InvalidUpstreamResponse(f"unexpected HTTP {status}", provider=PROVIDER, status_code=status)


# -- request building ------------------------------------------------------------------------------


def _timestamp(value: Timestamp) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"


def _csv(values: Sequence[str], allowed: frozenset[str] | None, name: str) -> str:
    if isinstance(values, str):
        values = (values,)
    unknown = sorted(set(values) - allowed) if allowed is not None else []
    if unknown:
        raise ValueError(f"unknown {name} value(s): {unknown}")
    return ",".join(values)


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _list_ids(list_ids: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(list_ids))
    if not unique:
        raise ValueError("at least one list id is required")
    if len(unique) > MAX_LISTS_PER_CONTACT:
        raise ValueError(f"at most {MAX_LISTS_PER_CONTACT} list ids are allowed")
    return unique


def restore_body(contact: Contact, list_ids: Sequence[str]) -> dict[str, Any]:
    """The ``PUT`` that revives ``contact`` onto ``list_ids`` without losing anything.

    A PUT nulls every core field it leaves out, so every core field the contact has goes back as it
    was; ``update_source: "Account"`` is what CC requires to revive a deleted contact.  Subresources
    (custom fields, phones, addresses, ...) survive a PUT that omits them, so they are not sent.
    """
    body: dict[str, Any] = {"update_source": "Account", "list_memberships": _list_ids(list_ids)}
    address = contact.email_address
    if address is not None:
        email: dict[str, Any] = {"address": address.address}
        if address.permission_to_send:
            email["permission_to_send"] = address.permission_to_send
        if address.opt_out_reason:
            email["opt_out_reason"] = address.opt_out_reason
        body["email_address"] = email
    for name in ("first_name", "last_name", "job_title", "company_name", "anniversary"):
        value = getattr(contact, name)
        if value is not None:
            body[name] = value
    if contact.birthday_month is not None and contact.birthday_day is not None:
        body["birthday_month"] = contact.birthday_month
        body["birthday_day"] = contact.birthday_day
    return body


def _origin(base_url: str) -> str:
    """Scheme and host: next-page links are host-relative (``/v3/...``), so paths carry ``/v3``."""
    origin = base_url.rstrip("/")
    if origin.endswith("/v3"):
        origin = origin[: -len("/v3")]
    if not origin.startswith(("http://", "https://")):
        raise ValueError("base_url must be an http(s) URL such as https://api.cc.email")
    return origin


def _request_parts(url: str, params: Mapping[str, str] | None, json: Any) -> tuple[httpx.URL, bytes | None]:
    """The URL and body of a request, built before any budget, limiter or breaker is involved: one the
    HTTP client cannot take (httpx refuses URLs of more than 65,536 characters) is refused typed."""
    try:
        # ``params=None`` would clear the query of a next-page link: pass it only when there are some.
        target = httpx.URL(url, params=params) if params else httpx.URL(url)
        return target, None if json is None else orjson.dumps(json)
    except (httpx.InvalidURL, orjson.JSONEncodeError, UnicodeError, ValueError) as exc:
        # Not chained, and the message names only the kind: the URL may hold addresses.
        failure = RequestNotSendable(
            f"the request could not be built ({type(exc).__name__})", provider=PROVIDER
        )
    raise failure


def _no_body(payload: Any) -> None:
    return None


# Every path segment the client itself writes; any other segment is an id (or a caller's value).
_ROUTE_WORDS = frozenset(
    {"v3", "contacts", "activities", "contact_lists", "contact_delete", "add_list_memberships"}
)


def route_template(path: str) -> str:
    """``path`` as the route it follows, for metrics and traces: the query (which may hold addresses)
    is dropped and every segment the client did not write itself becomes ``{id}``, so the set of
    templates is bounded by the client's own routes whatever ids or links come back."""
    segments = path.partition("?")[0].split("/")
    return "/".join(s if not s or s in _ROUTE_WORDS else "{id}" for s in segments)


def _segment(value: str) -> str:
    """``value`` as exactly one URL path segment: every reserved character percent-encoded, and the
    dots too, so that ``.`` or ``..`` can never be read (and normalised away) as a relative step.
    An empty value would name the collection instead of a member, so it is refused unsent."""
    if not value:
        raise UserInputError("an empty id names no resource")
    return quote(value, safe="").replace(".", "%2E")


# -- the client ------------------------------------------------------------------------------------


class ConstantContactClient:
    """Async Constant Contact v3 client.  One instance per access token; close it with :meth:`aclose`.

    ``allowance`` (the token's rate and daily quota) belongs to the token: share the client, not the
    token, between tasks.  Without one, the client counts in this process at ``rate_per_second`` and
    ``daily_quota``.  ``clock`` (the limiter's and activity polling's), ``now`` (the daily budget's) and
    ``sleep`` (every wait: limiter, backoff, polling) default to the real ones; tests hand in fakes to
    pin the rate and retry rules without waiting.
    """

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        refresh: OAuthRefresh | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        breaker: CircuitBreaker | None = None,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        allowance: CallAllowance | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: UpstreamObserver = NO_OBSERVER,
    ) -> None:
        self._origin = _origin(base_url)
        self._observer = observer
        self._credentials = BearerCredentials(access_token, refresh)
        self._timeouts = timeouts
        self._retry = retry
        self._rng = rng or random.Random()
        self._clock = clock
        self._sleep = sleep
        self.breaker = breaker or CircuitBreaker(PROVIDER)
        self.allowance: CallAllowance = allowance or ProcessAllowance(
            PROVIDER,
            rate_per_second=rate_per_second,
            daily_quota=daily_quota,
            clock=clock,
            now=now,
            sleep=sleep,
        )
        self.stats = RetryStats()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeouts.to_httpx(),
            follow_redirects=False,
            headers={"Accept": "application/json", "Cache-Control": "no-cache"},
        )

    def __repr__(self) -> str:
        return (
            f"ConstantContactClient(base_url={self._origin!r}, rate_per_second={self.allowance.rate:g}, "
            f"breaker={self.breaker.state!r})"
        )

    @property
    def token_refreshes(self) -> int:
        """How many times the access token was refreshed (tests prove concurrent 401s refresh once)."""
        return self._credentials.refreshes

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ConstantContactClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the exchange ------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._credentials.secrets():
            text = text.replace(secret, _REDACTED)
        return text

    async def _send(
        self, method: str, url: httpx.URL, body: bytes | None, route: str, retry_number: int
    ) -> tuple[int, httpx.Response]:
        """One HTTP exchange under the allowance (daily quota, then rate) and the total timeout, watched by
        the observer from after the limiter's wait (queueing behind our own limiter is not upstream
        time).

        Returns the answer and the generation of the token it was sent with (see ``auth``).
        """
        await self.allowance.admit()
        generation, authorization = self._credentials.authorization()
        observation = self._observer.exchange_started(PROVIDER, method, (route,), retry_number)
        headers = {**observation.headers, "Authorization": authorization}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status = "cancelled"  # what the observer hears if the task is cancelled mid-exchange
        try:
            async with asyncio.timeout(self._timeouts.total):
                response = await self._http.request(method, url, content=body, headers=headers)
            status = str(response.status_code)
        except TimeoutError:
            status = STATUS_TIMEOUT
            raise ProviderTimeout(
                f"no complete answer within {self._timeouts.total:g}s", provider=PROVIDER
            ) from None
        except httpx.TransportError as exc:
            failure = transport_error(PROVIDER, exc)
            status = STATUS_TIMEOUT if isinstance(failure, ProviderTimeout) else STATUS_UNREACHABLE
            raise failure from None
        finally:
            observation.finished((status,))
        logger.debug("constant contact %s %s -> %s", method, route, response.status_code)
        return generation, response

    async def _exchange(
        self, method: str, url: httpx.URL, body: bytes | None, route: str, retry_number: int
    ) -> Any:
        """Send, refresh-and-resend once on a 401, and return the decoded JSON (None for no content)."""
        generation, response = await self._send(method, url, body, route, retry_number)
        if response.status_code == 401 and self._credentials.can_refresh:
            try:
                async with asyncio.timeout(self._timeouts.total):
                    await self._credentials.refresh_after(generation, self._http)
            except TimeoutError:
                raise ProviderTimeout("token refresh timed out", provider=PROVIDER) from None
            _, response = await self._send(method, url, body, route, retry_number)
        if not response.is_success:
            raise error_for_response(response, allowance=self.allowance, scrub=self._scrub)
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise InvalidUpstreamResponse(
                f"HTTP {response.status_code} with a body that is not JSON", provider=PROVIDER
            ) from None

    async def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> T:
        url, body = _request_parts(self._origin + path, params, json)
        route = route_template(path)
        retry_numbers = itertools.count()

        async def attempt() -> T:
            # Parsing inside the attempt: a body of the wrong shape is retried and counted by the breaker.
            return parse(await self._exchange(method, url, body, route, next(retry_numbers)))

        def run() -> Awaitable[T]:
            return call_with_retries(
                attempt,
                provider=PROVIDER,
                policy=self._retry,
                breaker=self.breaker,
                idempotent=idempotent,
                stats=self.stats,
                rng=self._rng,
                sleep=self._sleep,
            )

        return await (run() if idempotent else self._retry_throttled(run))

    async def _retry_throttled(self, run: Callable[[], Awaitable[T]]) -> T:
        """A non-idempotent call is repeated only after a ``throttled`` 429: CC did not do the work."""
        policy = self._retry
        slept = 0.0
        number = 0
        while True:
            number += 1
            try:
                return await run()
            except RateLimited as error:
                delay = policy.delay(number, error.retry_after, self._rng)
                if (
                    error.kind != "throttled"
                    or number >= policy.max_attempts
                    or slept + delay > policy.budget
                    or not fits_before_deadline(delay)
                ):
                    raise
            slept += delay
            self.stats.retries += 1
            await self._sleep(delay)

    def _follow(self, href: str, seen: set[str]) -> str:
        """The path of a ``_links.next.href``, used verbatim; links off the API host are refused."""
        if href.startswith(self._origin + "/"):
            href = href[len(self._origin) :]
        if not href.startswith("/v3/"):
            raise InvalidUpstreamResponse(
                "next-page link is not a /v3/ path on the API host", provider=PROVIDER
            )
        if href in seen:
            raise InvalidUpstreamResponse("next-page link repeats an earlier page", provider=PROVIDER)
        seen.add(href)
        return href

    # -- contacts ----------------------------------------------------------------------------------

    def iter_contact_pages(
        self,
        *,
        status: Sequence[str] = (),
        limit: int = MAX_PAGE_SIZE,
        email: str | None = None,
        lists: Sequence[str] = (),
        created_after: Timestamp | None = None,
        created_before: Timestamp | None = None,
        updated_after: Timestamp | None = None,
        updated_before: Timestamp | None = None,
        optout_after: Timestamp | None = None,
        optout_before: Timestamp | None = None,
        include: Sequence[str] = (),
        include_count: bool = False,
    ) -> AsyncIterator[ContactsPage]:
        """Every page of ``GET /v3/contacts`` for these filters, following ``_links.next.href`` exactly.

        Without ``status`` CC returns every contact that is *not* deleted; ask for ``("deleted",)`` or
        ``("all",)`` to see deleted ones.
        """
        params = _contacts_params(
            status=status, limit=limit, email=email, lists=lists, created_after=created_after,
            created_before=created_before, updated_after=updated_after, updated_before=updated_before,
            optout_after=optout_after, optout_before=optout_before, include=include,
            include_count=include_count,
        )  # fmt: skip
        return self._pages(params, ContactsPage.from_json)

    def iter_contact_entries(
        self,
        *,
        status: Sequence[str] = (),
        limit: int = MAX_PAGE_SIZE,
        email: str | None = None,
        created_after: Timestamp | None = None,
        created_before: Timestamp | None = None,
        updated_after: Timestamp | None = None,
        include_count: bool = False,
    ) -> AsyncIterator[ContactEntriesPage]:
        """:meth:`iter_contact_pages` with each contact left as its JSON object, for readers that need
        a few fields of many contacts (``records.summary_fields``) and the full record of only some."""
        params = _contacts_params(
            status=status, limit=limit, email=email, created_after=created_after,
            created_before=created_before, updated_after=updated_after, include_count=include_count,
        )  # fmt: skip
        return self._pages(params, ContactEntriesPage.from_json)

    async def _pages(self, params: dict[str, str], parse: Callable[[Any], PageT]) -> AsyncIterator[PageT]:
        page = await self._call("GET", "/v3/contacts", parse, params=params)
        seen: set[str] = set()
        while True:
            yield page
            if page.next_href is None:
                return
            path = self._follow(page.next_href, seen)
            page = await self._call("GET", path, parse)

    async def get_contact(self, contact_id: str, include: Sequence[str] = ()) -> Contact:
        """``GET /v3/contacts/{id}``; deleted contacts come back too (with ``deleted_at``)."""
        params = {"include": _csv(include, CONTACT_INCLUDES, "include")} if include else None
        return await self._call(
            "GET", f"/v3/contacts/{_segment(contact_id)}", Contact.from_json, params=params
        )

    async def find_contacts_by_email(
        self, email: str, status: Sequence[str] = ("all",), include: Sequence[str] = ()
    ) -> list[Contact]:
        """The contacts that hold ``email`` (CC matches the whole address; ``all`` includes deleted)."""
        found: list[Contact] = []
        async for page in self.iter_contact_pages(status=status, email=email, include=include):
            found.extend(page.contacts)
        return found

    async def delete_contact(self, contact_id: str) -> None:
        """Soft-delete one contact (``DELETE /v3/contacts/{id}``, 204)."""
        await self._call("DELETE", f"/v3/contacts/{_segment(contact_id)}", _no_body)

    async def restore_contact(self, contact_id: str, list_ids: Sequence[str]) -> Contact:
        """Revive a deleted contact onto ``list_ids``: read it, then PUT every core field back."""
        body_lists = _list_ids(list_ids)
        current = await self.get_contact(contact_id)
        return await self._call(
            "PUT",
            f"/v3/contacts/{_segment(contact_id)}",
            Contact.from_json,
            json=restore_body(current, body_lists),
        )

    # -- bulk activities ---------------------------------------------------------------------------

    async def start_bulk_delete(self, contact_ids: Sequence[str]) -> list[Activity]:
        """One ``contact_delete`` activity per 500 ids, in order (id ``i`` is in activity ``i // 500``)."""
        return [
            await self._call(
                "POST",
                "/v3/activities/contact_delete",
                Activity.from_json,
                json={"contact_ids": chunk},
                idempotent=False,
            )
            for chunk in _chunks(contact_ids, BULK_CHUNK)
        ]

    async def start_bulk_restore(self, contact_ids: Sequence[str], list_ids: Sequence[str]) -> list[Activity]:
        """One ``add_list_memberships`` activity per 500 ids: CC's documented bulk restore."""
        targets = _list_ids(list_ids)
        return [
            await self._call(
                "POST",
                "/v3/activities/add_list_memberships",
                Activity.from_json,
                json={"source": {"contact_ids": chunk}, "list_ids": targets},
                idempotent=False,
            )
            for chunk in _chunks(contact_ids, BULK_CHUNK)
        ]

    async def get_activity(self, activity_id: str) -> Activity:
        return await self._call("GET", f"/v3/activities/{_segment(activity_id)}", Activity.from_json)

    async def wait_for_activities(
        self,
        activity_ids: Sequence[str],
        *,
        timeout: float,
        first_interval: float = 0.2,
        max_interval: float = 2.0,
    ) -> list[Activity]:
        """Poll until every activity is done or ``timeout`` passes; return the latest state of each.

        Running out of time is not an error: the caller reports the unfinished ones as pending.  The
        request's deadline (:mod:`gateway.core.deadlines`) shortens ``timeout`` when it is nearer, and
        a poll it cuts short ends the wait like the timeout does, once every activity was seen once.
        """
        left = remaining_seconds()
        if left is not None:
            timeout = min(timeout, left)
        deadline = self._clock() + timeout
        latest: dict[str, Activity] = {}
        pending = list(dict.fromkeys(activity_ids))
        interval = first_interval
        while True:
            try:
                answers = await gather_settled(self.get_activity(i) for i in pending)
            except ProviderTimeout:
                left = remaining_seconds()
                # The first round fills ``latest`` for every activity: without it there is nothing to report.
                if left is None or left > 0 or not latest:
                    raise
                return [latest[i] for i in activity_ids]
            latest.update(zip(pending, answers, strict=True))
            pending = [i for i in pending if not latest[i].done]
            remaining = deadline - self._clock()
            if not pending or remaining <= 0:
                return [latest[i] for i in activity_ids]
            await self._sleep(min(interval, remaining))
            interval = min(interval * 2, max_interval)

    # -- lists -------------------------------------------------------------------------------------

    async def list_contact_lists(self, *, include_membership_count: str | None = "all") -> list[ContactList]:
        """Every contact list of the account (all pages)."""
        params = {"limit": str(MAX_PAGE_SIZE)}
        if include_membership_count:
            params["include_membership_count"] = include_membership_count
        page = await self._call("GET", "/v3/contact_lists", ContactListsPage.from_json, params=params)
        found = list(page.lists)
        seen: set[str] = set()
        while page.next_href is not None:
            path = self._follow(page.next_href, seen)
            page = await self._call("GET", path, ContactListsPage.from_json)
            found.extend(page.lists)
        return found


def _contacts_params(
    *,
    status: Sequence[str] = (),
    limit: int = MAX_PAGE_SIZE,
    email: str | None = None,
    lists: Sequence[str] = (),
    created_after: Timestamp | None = None,
    created_before: Timestamp | None = None,
    updated_after: Timestamp | None = None,
    updated_before: Timestamp | None = None,
    optout_after: Timestamp | None = None,
    optout_before: Timestamp | None = None,
    include: Sequence[str] = (),
    include_count: bool = False,
) -> dict[str, str]:
    """The query string of ``GET /v3/contacts``; bad values raise ``ValueError`` before any request."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if len(lists) > 25:
        raise ValueError("at most 25 list ids may be filtered on")
    params: dict[str, str] = {"limit": str(limit)}
    if status:
        params["status"] = _csv(status, CONTACT_STATUSES, "status")
    if email is not None:
        if not email.strip():
            # What CC does with an empty ``email=`` is not documented; it may list every contact.
            raise ValueError("email must not be empty")
        params["email"] = email
    if lists:
        params["lists"] = _csv(lists, None, "lists")
    for name, value in (
        ("created_after", created_after),
        ("created_before", created_before),
        ("updated_after", updated_after),
        ("updated_before", updated_before),
        ("optout_after", optout_after),
        ("optout_before", optout_before),
    ):
        if value is not None:
            params[name] = _timestamp(value)
    if include:
        params["include"] = _csv(include, CONTACT_INCLUDES, "include")
    if include_count:
        params["include_count"] = "true"
    return params

"""The GetResponse 1.5 JSON-RPC client: calls, batches, notifications, typed errors, resilience.

GetResponse 1.5 is one URL taking JSON-RPC 1.0 and 2.0 over HTTP POST, with 2.0 batches and
notifications, and the API key as the first positional param of every call.  This client:

- sends 2.0 requests ``{"jsonrpc": "2.0", "method", "params": [API_KEY, {conditions}], "id"}`` with ids
  unique for the client's lifetime (a counter), and leaves out an empty conditions object (the
  documented form for a call without conditions is ``[API_KEY]``);
- packs :meth:`GetResponseClient.batch` into as few POSTs as the 1,048,576-byte request limit allows
  (usually one), matches replies by id (a batch reply is unordered) and returns each call's result or
  its typed error *in place*; only a failure of the whole exchange raises.  With ``batching=False``
  (a deployment that refuses batches) the same calls go out as concurrent single requests;
- reads every envelope GetResponse has used: 2.0 (``error`` absent or ``null``), 1.0 (``"error": null``),
  error objects ``{code, message, data}``, the pre-2012 bare string error, and HTTP 204 for
  notifications;
- maps GetResponse's ``-1`` messages to :mod:`gateway.providers.errors` (see :func:`rpc_error`);
- runs every POST through :func:`~gateway.providers.resilience.call_with_retries`: per-attempt total
  timeout, retries of connection errors, timeouts, 5xx, 429 and unreadable replies with capped
  exponential backoff and ``Retry-After``, but only when every call in the POST is idempotent (a batch
  holding one ``add_contact`` is sent exactly once), and one circuit breaker for the provider.

The API key lives in a wrapper whose ``repr`` is masked; it is only revealed while encoding a request
body.  Error messages are built from the method name and GetResponse's own text with the key
scrubbed out, logs name methods and sizes only, and transport exceptions are not chained (an
``httpx`` error carries the request, whose body holds the key).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, Self

import httpx
import msgspec
import orjson

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
    STATUS_INVALID,
    STATUS_RPC_ERROR,
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
    transport_error,
)

from .conditions import DeletedContactsQuery
from .records import PROVIDER, AccountCallbacks, Campaign, Contact, DeletedContact, Message

__all__ = ["MAX_REQUEST_BYTES", "PROVIDER", "GetResponseClient", "RpcCall", "rpc_error"]

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES: Final = 1_048_576
"""The largest request GetResponse accepts, in bytes (documented)."""

_MAX_TEXT = 300  # upstream text quoted in an error message is cut here


@dataclass(frozen=True, slots=True)
class RpcCall:
    """One JSON-RPC call.  ``params`` is the conditions object (``params[1]`` on the wire).

    ``idempotent=False`` (``add_contact``) means the call, and any batch holding it, is never
    retried.  A ``notification`` is sent without an id: GetResponse runs it and answers nothing, so its
    slot in a batch's results is ``None``.

    ``read`` decodes the call's result from its JSON text itself (a caller that needs a few fields of
    a large result), when the call is answered within a batch; when it raises, whatever the reason,
    or for a call sent alone, the result is decoded as plain JSON.
    """

    method: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    idempotent: bool = True
    notification: bool = False
    read: Callable[[bytes | memoryview], Any] | None = field(default=None, hash=False, compare=False)


class _ApiKey:
    """The API key, masked in every ``repr``/``str`` so no log line or traceback can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a GetResponse API key is required")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        return text.replace(self._value, "[redacted]")

    def __repr__(self) -> str:
        return "ApiKey('**********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class _Prepared:
    call: RpcCall
    request_id: int | None  # None: a notification
    body: bytes  # the encoded request object


Outcome = Any  # a call's result, or the ProviderError it ended with


# -- errors ---------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= _MAX_TEXT else f"{text[:_MAX_TEXT]}..."


def rpc_error(
    method: str | None,
    error: Any,
    *,
    scrub: Callable[[str], str] = lambda text: text,
    status_code: int | None = None,
) -> ProviderError:
    """The typed exception for a JSON-RPC ``error`` member (an object, or a pre-2012 bare string).

    GetResponse reports method errors as code ``-1`` (``-2`` before 2012-11-30) with fixed English
    texts, so the text decides: ``API key verification failed`` -> AuthenticationFailed, ``API client
    IP not allowed`` -> Forbidden, ``Missing ...`` -> NotFound, ``... already queued/added/exists ...``
    -> Conflict, ``Invalid params`` (-32602) and other ``Invalid ...`` texts -> ValidationFailed,
    ``... limit ... exceeded`` -> RateLimited.  Standard codes: -32700/-32600/-32601 (the request was
    refused as malformed) -> ValidationFailed; -32603 and the -32000..-32099 server errors ->
    ProviderUnavailable.  Anything else is a plain ProviderError.
    """
    if isinstance(error, str):
        code, message, data = None, error, None
    elif isinstance(error, Mapping) and isinstance(error.get("message"), str):
        raw_code = error.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        message, data = error["message"], error.get("data")
    else:
        return InvalidUpstreamResponse(
            f"{method or 'request'}: error member without a readable message", provider=PROVIDER
        )
    text = scrub(_describe(message)) or "unspecified error"
    detail = scrub(_describe(data))
    full = f"{method}: {text}" if method else text
    if detail:
        full = f"{full} ({detail})"
    folded = text.casefold()
    provider = PROVIDER

    if folded.startswith("api key verification failed"):
        return AuthenticationFailed(full, provider=provider, status_code=status_code)
    if folded.startswith("api client ip not allowed"):
        return Forbidden(full, provider=provider, status_code=status_code)
    if folded.startswith("missing "):
        return NotFound(full, provider=provider, status_code=status_code)
    if "already" in folded and any(word in folded for word in ("queued", "added", "exist")):
        return Conflict(full, provider=provider, status_code=status_code or 409)
    if code == -32602 or folded.startswith("invalid "):
        details = (ErrorDetail(method or "params", detail or text),)
        return ValidationFailed(full, provider=provider, details=details, status_code=status_code or 400)
    if "limit" in folded and "exceeded" in folded:
        kind = "throttled" if ("request" in folded or "rate" in folded) else "quota_exceeded"
        return RateLimited(full, provider=provider, kind=kind, status_code=status_code)
    if code in (-32700, -32600, -32601):
        return ValidationFailed(full, provider=provider, status_code=status_code or 400)
    if code is not None and (code == -32603 or -32099 <= code <= -32000):
        return ProviderUnavailable(full, provider=provider, status_code=status_code)
    return ProviderError(full, provider=provider, status_code=status_code)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or ``None``."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _invalid(what: str) -> InvalidUpstreamResponse:
    return InvalidUpstreamResponse(f"unexpected reply: {what}", provider=PROVIDER)


_NOT_JSON: Final = object()


def _json_body(content: bytes) -> Any:
    """The parsed body, or ``_NOT_JSON`` (no exception, so none can end up chained to our errors)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _NOT_JSON


class _Reply(msgspec.Struct):
    """A JSON-RPC reply with its result left as JSON text (what a call's ``read`` decodes)."""

    jsonrpc: Any = msgspec.UNSET
    id: Any = msgspec.UNSET
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: Any = msgspec.UNSET


_REPLIES = msgspec.json.Decoder(list[_Reply])


def _read_results(content: bytes, chunk: Sequence[_Prepared]) -> Any:
    """The parsed body of a batch, each result decoded by its call's ``read`` where it has one (else
    as plain JSON); ``_NOT_JSON`` for anything but an array of objects, so the plain parse judges it."""
    try:
        replies = _REPLIES.decode(content)
        readers = {item.request_id: item.call.read for item in chunk if item.call.read is not None}
        document: list[dict[str, Any]] = []
        for reply in replies:
            entry = {
                name: value
                for name, value in (("jsonrpc", reply.jsonrpc), ("id", reply.id), ("error", reply.error))
                if value is not msgspec.UNSET
            }
            raw = reply.result
            if raw is not msgspec.UNSET:
                read = readers.get(reply.id) if _is_int_id(reply.id) else None
                entry["result"] = _read_result(raw, read)
            document.append(entry)
    except (msgspec.MsgspecError, orjson.JSONDecodeError):  # the plain parse of the body judges it
        return _NOT_JSON
    return document


def _read_result(raw: msgspec.Raw, read: Callable[[bytes | memoryview], Any] | None) -> Any:
    text = memoryview(raw)
    if read is not None:
        try:
            return read(text)
        except Exception:  # the plain parse below accepts it, or the caller names the fault
            pass
    return orjson.loads(text)


def _transport_failure(exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.DecodingError):
        return _invalid("the body could not be decoded")
    if isinstance(exc, httpx.TransportError):
        return transport_error(PROVIDER, exc)
    return ProviderUnavailable(f"upstream request failed ({type(exc).__name__})", provider=PROVIDER)


def _is_int_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- the client -----------------------------------------------------------------------------------------


class GetResponseClient:
    """One long-lived HTTP client for one GetResponse account (``transport`` is the test seam)."""

    provider = PROVIDER

    def __init__(
        self,
        *,
        api_url: str,
        api_key: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        batching: bool = True,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_concurrency: int = 8,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: UpstreamObserver = NO_OBSERVER,
    ) -> None:
        url = httpx.URL(api_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("api_url must be an absolute http(s) URL")
        if max_request_bytes < 64 or max_concurrency < 1:
            raise ValueError("max_request_bytes and max_concurrency are too small")
        self._url = url
        self._key = _ApiKey(api_key)
        self._observer = observer
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(PROVIDER)
        self.batching = batching
        self.max_request_bytes = max_request_bytes
        self.stats = RetryStats()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self.timeouts.to_httpx(),
            headers={"content-type": "application/json", "accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        # Scheme and host only: GetResponse360 URLs carry an account token in the path.
        return (
            f"GetResponseClient(api_url='{self._url.scheme}://{self._url.netloc.decode()}/...', "
            f"batching={self.batching}, breaker={self.breaker.state!r})"
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- JSON-RPC ---------------------------------------------------------------------------------------

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = True
    ) -> Any:
        """One call in its own request; its result, or the typed error raised."""
        (outcome,) = await self._run([RpcCall(method, params or {}, idempotent)], batched=False)
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome

    async def notify(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool = True
    ) -> None:
        """A notification (no id): GetResponse runs it and answers HTTP 204; nothing comes back."""
        await self._run([RpcCall(method, params or {}, idempotent, notification=True)], batched=False)

    async def batch(self, calls: Sequence[RpcCall]) -> list[Outcome]:
        """Every call's result (``None`` for notifications) or its ``ProviderError``, in call order.

        One POST unless the 1 MiB limit forces more; a call too large to send on its own gets a
        ``ValidationFailed`` in place.  When no POST produced an answer the failure is raised; when
        some did, the calls of the failed POSTs get its error in place.
        """
        return await self._run(calls, batched=self.batching)

    async def _run(self, calls: Sequence[RpcCall], *, batched: bool) -> list[Outcome]:
        if not calls:
            return []
        outcomes: dict[int, Outcome] = {}
        sendable: list[tuple[int, _Prepared]] = []
        for index, call in enumerate(calls):
            try:
                item = self._prepare(call)
            except orjson.JSONEncodeError:  # a value JSON cannot carry: that call fails, typed, unsent
                outcomes[index] = RequestNotSendable(
                    f"{call.method}: the call could not be encoded as JSON", provider=PROVIDER
                )
                continue
            if len(item.body) > self.max_request_bytes:
                outcomes[index] = ValidationFailed(
                    f"{item.call.method}: the call is {len(item.body):,} bytes, over the "
                    f"{self.max_request_bytes:,}-byte request limit",
                    provider=PROVIDER,
                )
            else:
                sendable.append((index, item))
        chunks = self._pack(sendable) if batched else [[entry] for entry in sendable]
        answers: list[list[Outcome] | BaseException]
        if len(chunks) == 1:  # the usual case, sent now (a task would send it on the loop's next turn)
            answers = [await self._send([item for _, item in chunks[0]])]  # its failure is everyone's
        else:
            answers = await asyncio.gather(
                *(self._send([item for _, item in chunk]) for chunk in chunks), return_exceptions=True
            )
        failures = [answer for answer in answers if isinstance(answer, BaseException)]
        for failure in failures:
            if not isinstance(failure, ProviderError):
                raise failure
        if chunks and len(failures) == len(chunks):
            raise failures[0]
        for chunk, answer in zip(chunks, answers, strict=True):
            for position, (index, _) in enumerate(chunk):
                outcomes[index] = answer if isinstance(answer, BaseException) else answer[position]
        return [outcomes[index] for index in range(len(calls))]

    def _prepare(self, call: RpcCall) -> _Prepared:
        params: list[Any] = [self._key.reveal()]
        if call.params:
            params.append(dict(call.params))
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": call.method, "params": params}
        request_id = None
        if not call.notification:
            request_id = next(self._ids)
            request["id"] = request_id
        return _Prepared(call, request_id, orjson.dumps(request))

    def _pack(self, entries: Iterable[tuple[int, _Prepared]]) -> list[list[tuple[int, _Prepared]]]:
        """Greedy packing into JSON arrays of at most ``max_request_bytes`` (brackets and commas counted)."""
        chunks: list[list[tuple[int, _Prepared]]] = []
        current: list[tuple[int, _Prepared]] = []
        size = 2
        for entry in entries:
            extra = len(entry[1].body) + (1 if current else 0)
            if current and size + extra > self.max_request_bytes:
                chunks.append(current)
                current, size, extra = [], 2, len(entry[1].body)
            current.append(entry)
            size += extra
        if current:
            chunks.append(current)
        return chunks

    async def _send(self, chunk: Sequence[_Prepared]) -> list[Outcome]:
        """One POST (a single object, or an array for several calls), retried when that is safe."""
        single = len(chunk) == 1
        body = chunk[0].body if single else b"[" + b",".join(item.body for item in chunk) + b"]"
        methods = ", ".join(
            f"{name}x{count}" for name, count in Counter(i.call.method for i in chunk).items()
        )
        names = tuple(item.call.method for item in chunk)
        retry_numbers = itertools.count()

        async def attempt() -> list[Outcome]:
            logger.debug("getresponse POST %d call(s), %d bytes: %s", len(chunk), len(body), methods[:200])
            # Observed call by call: a batch of three calls is one exchange naming three methods.
            observation = self._observer.exchange_started(PROVIDER, "POST", names, next(retry_numbers))
            statuses = ["cancelled"] * len(chunk)  # what the observer hears if the task is cancelled
            try:
                return await self._exchange(body, chunk, observation.headers, statuses)
            finally:
                observation.finished(statuses)

        async with self._slots:
            return await call_with_retries(
                attempt,
                provider=PROVIDER,
                policy=self.retry,
                breaker=self.breaker,
                idempotent=all(item.call.idempotent for item in chunk),
                stats=self.stats,
                rng=self._rng,
                sleep=self._sleep,
            )

    async def _exchange(
        self, body: bytes, chunk: Sequence[_Prepared], headers: Mapping[str, str], statuses: list[str]
    ) -> list[Outcome]:
        """One POST and its reading; ``statuses`` is filled with how each call of it ended.

        The total timeout is taken here rather than by ``call_with_retries`` so that a timeout is
        told apart from a cancellation in ``statuses``.
        """
        total = self.timeouts.total
        try:
            async with asyncio.timeout(total):
                response = await self._http.post(self._url, content=body, headers=headers)
        except TimeoutError:
            statuses[:] = [STATUS_TIMEOUT] * len(chunk)
            failure: ProviderError = ProviderTimeout(
                f"no complete answer within {total:g}s", provider=PROVIDER
            )
        except httpx.HTTPError as exc:
            failure = _transport_failure(exc)
            status = STATUS_TIMEOUT if isinstance(failure, ProviderTimeout) else STATUS_UNREACHABLE
            statuses[:] = [status] * len(chunk)
        else:
            logger.debug("getresponse reply HTTP %d, %d bytes", response.status_code, len(response.content))
            http_status = str(response.status_code)
            try:
                outcomes = self._read(response, chunk, single=len(chunk) == 1)
            except ProviderError:
                statuses[:] = [STATUS_INVALID if response.is_success else http_status] * len(chunk)
                raise
            statuses[:] = [
                STATUS_RPC_ERROR if isinstance(outcome, ProviderError) else http_status
                for outcome in outcomes
            ]
            return outcomes
        # Raised outside the handler: the httpx error (whose request body holds the key) must not
        # ride along as __context__.
        raise failure

    # -- reading replies --------------------------------------------------------------------------------

    def _read(self, response: httpx.Response, chunk: Sequence[_Prepared], *, single: bool) -> list[Outcome]:
        status = response.status_code
        if status == 429:
            raise RateLimited(
                "throttled (HTTP 429)",
                provider=PROVIDER,
                kind="throttled",
                retry_after=_retry_after(response),
            )
        if status == 408 or status >= 500:
            if status in (408, 504):
                raise ProviderTimeout(
                    f"upstream timed out (HTTP {status})",
                    provider=PROVIDER,
                    status_code=status,
                    retry_after=_retry_after(response),
                )
            raise ProviderUnavailable(
                f"upstream failed (HTTP {status})",
                provider=PROVIDER,
                status_code=status,
                retry_after=_retry_after(response),
            )
        expects_reply = any(item.request_id is not None for item in chunk)
        if 200 <= status < 300 and not expects_reply:
            return [None] * len(chunk)  # notifications only: nothing to read, whatever came back
        if status == 204:
            raise _invalid("HTTP 204 (no content), as if the calls were notifications")
        document = _NOT_JSON
        if not single and 200 <= status < 300 and any(item.call.read is not None for item in chunk):
            document = _read_results(response.content, chunk)
        if document is _NOT_JSON:
            document = _json_body(response.content)
        if document is _NOT_JSON:
            if status != 200:
                raise self._http_error(status, None)
            raise _invalid(f"the body is not JSON ({len(response.content)} bytes)")
        if not 200 <= status < 300:
            raise self._http_error(status, document)
        if single:
            return [self._single_outcome(document, chunk[0])]
        return self._batch_outcomes(document, chunk)

    def _http_error(self, status: int, document: Any) -> ProviderError:
        """A refused request: the JSON-RPC error it carries, or one named after the HTTP status."""
        if isinstance(document, Mapping) and document.get("error") is not None:
            return rpc_error(None, document["error"], scrub=self._key.scrub, status_code=status)
        if status in (401, 403):
            return AuthenticationFailed(
                f"HTTP {status}: API key verification failed", provider=PROVIDER, status_code=status
            )
        if status == 413:
            return ValidationFailed("HTTP 413: the request is too large", provider=PROVIDER, status_code=413)
        if status == 400:
            return ValidationFailed("HTTP 400: the request was refused", provider=PROVIDER, status_code=400)
        return ProviderError(
            f"unexpected HTTP {status} from the API endpoint", provider=PROVIDER, status_code=status
        )

    def _outcome(self, envelope: Mapping[str, Any], method: str) -> Outcome:
        error = envelope.get("error")
        if error is not None:
            return rpc_error(method, error, scrub=self._key.scrub)
        if "result" not in envelope:
            raise _invalid(f"{method}: the reply has neither a result nor an error")
        return envelope["result"]

    def _single_outcome(self, document: Any, item: _Prepared) -> Outcome:
        if not isinstance(document, Mapping):
            raise _invalid(f"{item.call.method}: the reply is not a JSON-RPC object")
        echoed = document.get("id")
        # An unreadable request is answered with "id": null; ours always has one, so it is our error.
        if not (echoed is None and document.get("error") is not None) and not (
            _is_int_id(echoed) and echoed == item.request_id
        ):
            raise _invalid(f"{item.call.method}: the reply's id does not match the request")
        return self._outcome(document, item.call.method)

    def _batch_outcomes(self, document: Any, chunk: Sequence[_Prepared]) -> list[Outcome]:
        if isinstance(document, Mapping) and document.get("error") is not None:
            # The whole batch was refused (not JSON to the server, an invalid request, too large...).
            raise rpc_error(None, document["error"], scrub=self._key.scrub)
        if not isinstance(document, list):
            raise _invalid("a batch was not answered with an array")
        expected = {item.request_id for item in chunk if item.request_id is not None}
        replies: dict[int, Mapping[str, Any]] = {}
        orphans: list[Mapping[str, Any]] = []
        for entry in document:
            if not isinstance(entry, Mapping):
                raise _invalid("a batch reply entry is not an object")
            reply_id = entry.get("id")
            if reply_id is None and entry.get("error") is not None:
                orphans.append(entry)
                continue
            if not _is_int_id(reply_id) or reply_id not in expected or reply_id in replies:
                raise _invalid("a batch reply entry has an unknown or repeated id")
            replies[reply_id] = entry
        missing = [item for item in chunk if item.request_id is not None and item.request_id not in replies]
        if len(orphans) != len(missing) or len(missing) > 1:
            raise _invalid(f"{len(missing)} call(s) of the batch got no reply")
        outcomes: list[Outcome] = []
        for item in chunk:
            if item.request_id is None:
                outcomes.append(None)
            elif item.request_id in replies:
                outcomes.append(self._outcome(replies[item.request_id], item.call.method))
            else:  # the one unanswered call and the one error the server could not attribute
                outcomes.append(rpc_error(item.call.method, orphans[0]["error"], scrub=self._key.scrub))
        return outcomes

    # -- typed methods ----------------------------------------------------------------------------------

    async def ping(self) -> bool:
        result = await self.call("ping")
        if not isinstance(result, Mapping) or result.get("ping") != "pong":
            raise _invalid("ping was not answered with pong")
        return True

    async def get_contacts_deleted(self, query: DeletedContactsQuery | None = None) -> list[DeletedContact]:
        result = await self.call("get_contacts_deleted", (query or DeletedContactsQuery()).to_params())
        return DeletedContact.parse_map(result)

    async def get_contacts(self, conditions: Mapping[str, Any] | None = None) -> list[Contact]:
        return Contact.parse_map(await self.call("get_contacts", conditions))

    async def get_campaigns(self, conditions: Mapping[str, Any] | None = None) -> list[Campaign]:
        return Campaign.parse_map(await self.call("get_campaigns", conditions))

    async def get_messages(self, conditions: Mapping[str, Any] | None = None) -> list[Message]:
        return Message.parse_map(await self.call("get_messages", conditions))

    async def get_campaigns_by_ids(self, ids: Iterable[str]) -> dict[str, Campaign]:
        """The campaigns that exist among ``ids``, from one ``get_campaigns`` call.

        ``get_campaigns`` takes no id condition (only ``name``), but an account holds at most 500
        campaigns, so the whole list is one small call and exact.
        """
        campaigns, _ = await self.get_catalog_by_ids(ids, ())
        return campaigns

    async def get_messages_by_ids(self, ids: Iterable[str]) -> dict[str, Message]:
        """The messages that exist among ``ids``, of every type: one batch of ``get_message`` calls.

        ``get_messages`` has no id condition and, without ``type``, lists newsletters and
        autoresponders only, while removals can come from A/B tests too; ``get_message`` by id finds
        every type, and the batch keeps it to one request.
        """
        _, messages = await self.get_catalog_by_ids((), ids)
        return messages

    async def get_catalog_by_ids(
        self, campaign_ids: Iterable[str], message_ids: Iterable[str]
    ) -> tuple[dict[str, Campaign], dict[str, Message]]:
        """:meth:`get_campaigns_by_ids` and :meth:`get_messages_by_ids` in ONE batch (one request).

        A page of deleted contacts names both campaigns and messages; asking for them together halves
        the round trips.  A message that no longer exists is simply absent from the answer.
        """
        wanted_campaigns = set(campaign_ids)
        messages = list(dict.fromkeys(message_ids))
        calls = [RpcCall("get_campaigns")] if wanted_campaigns else []
        calls += [RpcCall("get_message", {"message": item}) for item in messages]
        if not calls:
            return {}, {}
        answers = await self.batch(calls)
        campaigns: dict[str, Campaign] = {}
        if wanted_campaigns:
            listing, answers = answers[0], answers[1:]
            if isinstance(listing, ProviderError):
                raise listing
            campaigns = {
                c.campaign_id: c for c in Campaign.parse_map(listing) if c.campaign_id in wanted_campaigns
            }
        found: dict[str, Message] = {}
        for answer in answers:
            if isinstance(answer, NotFound):
                continue
            if isinstance(answer, ProviderError):
                raise answer
            found.update((m.message_id, m) for m in Message.parse_map(answer))
        return campaigns, found

    async def add_contact(
        self,
        *,
        campaign_id: str,
        email: str,
        name: str | None = None,
        cycle_day: int | None = None,
        ip: str | None = None,
        customs: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a contact (never retried: a timeout may hide an add that happened)."""
        params: dict[str, Any] = {"campaign": campaign_id, "email": email}
        if name is not None:
            params["name"] = name
        if cycle_day is not None:
            params["cycle_day"] = cycle_day
        if ip is not None:
            params["ip"] = ip
        if customs:
            params["customs"] = [{"name": key, "content": value} for key, value in customs.items()]
        result = await self.call("add_contact", params, idempotent=False)
        if isinstance(result, Mapping) and result.get("duplicated"):  # servers before 1.39.0
            raise Conflict("add_contact: Contact already added to target campaign", provider=PROVIDER)
        if not isinstance(result, Mapping) or not result.get("queued"):
            raise _invalid("add_contact was not answered with queued")

    async def delete_contacts(self, ids: Sequence[str]) -> list[Outcome]:
        """``delete_contact`` for each id in one batch; ``{"deleted": 1}`` or the error, in place.

        Retried when the whole request fails: deleting is idempotent, but a contact deleted by an
        attempt whose reply was lost then answers ``Missing contact``.
        """
        return await self.batch([RpcCall("delete_contact", {"contact": contact_id}) for contact_id in ids])

    async def get_account_callbacks(self) -> AccountCallbacks | None:
        return AccountCallbacks.parse(await self.call("get_account_callbacks"))

    async def set_account_callbacks(self, uri: str, actions: Sequence[str]) -> None:
        await self.call("set_account_callbacks", {"uri": uri, "actions": list(actions)})

    async def delete_account_callbacks(self) -> None:
        await self.call("delete_account_callbacks")

"""What both emulators share outside the providers' real APIs: clock, request log, faults, control plane.

The control plane lives under ``/_emulator/`` (no auth, never counted as provider traffic)::

    GET    /_emulator/requests          {"http_requests": N, "operations": {"getContacts": 3, ...}}
    POST   /_emulator/requests/reset    zero the counters
    POST   /_emulator/reset             reseed the data, zero counters, clear faults and clock offset
    GET    /_emulator/ground-truth      the whole provider state as JSON (provider-specific shape)
    GET    /_emulator/faults            current fault settings
    PUT    /_emulator/faults            replace them (body: FaultSettings fields; unknown keys -> 400)
    DELETE /_emulator/faults            back to no faults
    POST   /_emulator/clock             {"advance_seconds": 3600}: move the emulator's clock forward

Faults apply to the real API only.  ``script`` is a queue of one-shot faults consumed one per request
before the random rates are rolled, so tests can ask for "exactly two 503s, then a hang" and get it:
``"error"`` (``error_status``), ``"error:502"``, ``"hang"``, ``"malformed"``, ``"drop"``, ``"ok"``.

A dropped connection is simulated by starting the response and then failing mid-body: over a real
socket uvicorn closes the connection (the client sees an incomplete response); in process the
middleware raises ``httpx.RemoteProtocolError``, which is what httpx raises for the same event.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "CONTROL_PREFIX",
    "Clock",
    "EmulatorControl",
    "FaultMiddleware",
    "FaultSettings",
    "RequestLog",
    "json_response",
]

CONTROL_PREFIX = "/_emulator"


def json_response(payload: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status_code, media_type="application/json", headers=headers
    )


class Clock:
    """Wall clock in UTC that tests can move forward (quota resets, activity progress, confirmations)."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self._offset = timedelta()


class RequestLog:
    """Counts HTTP requests and provider operations; the tests prove batching with these numbers."""

    def __init__(self) -> None:
        self.http_requests = 0
        self.operations: Counter[str] = Counter()

    def record_http(self) -> None:
        self.http_requests += 1

    def record(self, operation: str, count: int = 1) -> None:
        self.operations[operation] += count

    def snapshot(self) -> dict[str, Any]:
        return {"http_requests": self.http_requests, "operations": dict(self.operations)}

    def reset(self) -> None:
        self.http_requests = 0
        self.operations.clear()


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    malformed_rate: float = 0.0
    drop_rate: float = 0.0
    script: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, payload: Any) -> FaultSettings:
        if not isinstance(payload, dict):
            raise ValueError("fault settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(payload) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        settings = cls(**payload)
        for entry in settings.script:
            kind = entry.split(":", 1)[0]
            if kind not in {"error", "hang", "malformed", "drop", "ok"}:
                raise ValueError(f"unknown scripted fault {entry!r}")
        return settings


class _Fault:
    def __init__(self, kind: str, status: int = 503) -> None:
        self.kind = kind
        self.status = status


class FaultMiddleware:
    """ASGI middleware in front of an emulator's real API: counts requests, then misbehaves on demand."""

    def __init__(self, app: ASGIApp, control: EmulatorControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        control = self.control
        control.log.record_http()
        settings = control.faults
        if settings.latency_ms or settings.jitter_ms:
            delay = settings.latency_ms + control.rng.uniform(0, settings.jitter_ms)
            await asyncio.sleep(delay / 1000)
        fault = control.next_fault()
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "hang":
            await asyncio.sleep(settings.hang_seconds)
            await json_response({"error": "hung"}, 504)(scope, receive, send)
        elif fault.kind == "error":
            body = {"error_key": "emulator.fault", "error_message": "Injected failure"}
            await json_response(body, fault.status)(scope, receive, send)
        elif fault.kind == "malformed":
            broken = Response(b'{"contacts": [{"contact_id": ', media_type="application/json")
            await broken(scope, receive, send)
        else:  # drop
            await _drop_connection(scope, receive, send)


async def _drop_connection(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
    raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class EmulatorControl:
    """Shared state of one emulator instance's control plane.

    ``reseed`` rebuilds the provider state; ``ground_truth`` dumps it.  Both are supplied by the
    emulator that owns this control plane.
    """

    def __init__(
        self,
        *,
        reseed: Callable[[], None],
        ground_truth: Callable[[], Any],
        clock: Clock | None = None,
        seed: int = 42,
    ) -> None:
        self.clock = clock or Clock()
        self.log = RequestLog()
        self.faults = FaultSettings()
        self.rng = random.Random(seed)
        self._script: deque[str] = deque()
        self._reseed = reseed
        self._ground_truth = ground_truth

    def set_faults(self, settings: FaultSettings) -> None:
        self.faults = settings
        self._script = deque(settings.script)

    def next_fault(self) -> _Fault | None:
        settings = self.faults
        if self._script:
            entry = self._script.popleft()
            kind, _, status = entry.partition(":")
            if kind == "ok":
                return None
            return _Fault(kind, int(status) if status else settings.error_status)
        roll = self.rng.random
        if settings.hang_rate and roll() < settings.hang_rate:
            return _Fault("hang")
        if settings.drop_rate and roll() < settings.drop_rate:
            return _Fault("drop")
        if settings.malformed_rate and roll() < settings.malformed_rate:
            return _Fault("malformed")
        if settings.error_rate and roll() < settings.error_rate:
            return _Fault("error", settings.error_status)
        return None

    def reset(self) -> None:
        self._reseed()
        self.log.reset()
        self.set_faults(FaultSettings())
        self.clock.reset()

    def routes(self) -> list[Route]:
        async def requests(request: Request) -> Response:
            return json_response(self.log.snapshot())

        async def reset_requests(request: Request) -> Response:
            self.log.reset()
            return json_response(self.log.snapshot())

        async def reset(request: Request) -> Response:
            self.reset()
            return json_response({"reset": True})

        async def ground_truth(request: Request) -> Response:
            return json_response(self._ground_truth())

        async def faults(request: Request) -> Response:
            if request.method == "PUT":
                try:
                    self.set_faults(FaultSettings.from_json(orjson.loads(await request.body())))
                except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
                    return json_response({"error": str(exc)}, 400)
            elif request.method == "DELETE":
                self.set_faults(FaultSettings())
            return json_response(asdict(self.faults))

        async def clock(request: Request) -> Response:
            try:
                seconds = float(orjson.loads(await request.body())["advance_seconds"])
            except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
                return json_response({"error": 'body must be {"advance_seconds": <number>}'}, 400)
            self.clock.advance(seconds)
            return json_response({"now": self.clock.now().isoformat()})

        return [
            Route(f"{CONTROL_PREFIX}/requests", requests, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/requests/reset", reset_requests, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/reset", reset, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/ground-truth", ground_truth, methods=["GET"]),
            Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "PUT", "DELETE"]),
            Route(f"{CONTROL_PREFIX}/clock", clock, methods=["POST"]),
        ]

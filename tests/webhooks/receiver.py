"""A webhook receiver over real HTTP (uvicorn on an ephemeral port) that records what it is sent and
answers with the statuses a test scripts (then 200)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.serving import BackgroundServer

__all__ = ["Received", "Receiver", "receiver"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=list)
    """Answers to give, in order; 200 once they run out."""
    received: list[Received] = field(default_factory=list)
    delay_seconds: float = 0.0
    """How long to wait before answering."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *statuses: int) -> None:
        with self.lock:
            self.statuses[:] = list(statuses)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            with self.lock:
                self.received.append(Received(request.url.path, dict(request.headers), body))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response(status_code=status)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (``.url``) until the block ends."""
    target = Receiver()
    with BackgroundServer(target.app()) as server:
        target.url = f"{server.url}/hooks/deletions"
        yield target

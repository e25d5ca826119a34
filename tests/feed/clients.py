"""Subscription clients as a real client runs them: ``graphql-transport-ws`` over a WebSocket
(``websockets``) and GraphQL over SSE (``httpx`` streaming), each collecting what the gateway sends.

Every wait is bounded by ``WAIT`` seconds (a failure, not a measurement): a test waits for what it
expects, then proves nothing else came by waiting for a later, known event (never by a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

__all__ = [
    "EVENT_FIELDS",
    "SUBSCRIPTION",
    "WAIT",
    "SseSubscription",
    "WsSubscription",
    "sse_subscription",
    "ws_subscription",
]

WAIT = 30.0
EVENT_FIELDS = """
    position eventId kind provider contactId email occurredAt recordedAt source reason campaignId
    contact { id provider contactId email reason }
"""
SUBSCRIPTION = f"""
subscription Feed($filter: ContactEventFilterInput, $after: EventPosition) {{
    contactEvents(filter: $filter, after: $after) {{ {EVENT_FIELDS} }}
}}
"""


def _ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1).rstrip("/") + "/graphql"


class WsSubscription:
    """One ``contactEvents`` operation on one ``graphql-transport-ws`` connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def message(self) -> dict[str, Any]:
        """The next protocol message (pings answered)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), WAIT)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def event(self) -> dict[str, Any]:
        """The next event; fails on anything else."""
        message = await self.message()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["contactEvents"]
        return event

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]


async def open_ws(
    base_url: str, *, init: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> ClientConnection:
    """A connection after its ``connection_init`` (the ack not yet read)."""
    connection = await connect(
        _ws_url(base_url),
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers or {},
    )
    await connection.send(json.dumps({"type": "connection_init", "payload": init or {}}))
    return connection


async def close_code(connection: ClientConnection) -> int | None:
    """The code the server closed ``connection`` with (after whatever it sent before)."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(connection.recv(), WAIT)
    return connection.close_code


@contextlib.asynccontextmanager
async def ws_subscription(
    base_url: str,
    credential: str,
    variables: dict[str, Any] | None = None,
    *,
    in_header: bool = False,
    query: str = SUBSCRIPTION,
) -> AsyncIterator[WsSubscription]:
    """Subscribed (and acknowledged); the credential in ``connection_init`` or the upgrade's header."""
    bearer = f"Bearer {credential}"
    connection = await open_ws(
        base_url,
        init=None if in_header else {"authorization": bearer},
        headers={"authorization": bearer} if in_header else None,
    )
    try:
        ack = json.loads(await asyncio.wait_for(connection.recv(), WAIT))
        assert ack["type"] == "connection_ack", ack
        await connection.send(
            json.dumps(
                {
                    "id": "feed",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        yield WsSubscription(connection)
    finally:
        await connection.close()


class SseSubscription:
    """One ``contactEvents`` operation over SSE (distinct connections mode): its parsed events."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.status: int | None = None
        self.comments = 0
        """Comment lines received (the gateway's keep-alives)."""

    async def read(self, response: httpx.Response) -> None:
        self.status = response.status_code
        kind, data = "", ""
        async for line in response.aiter_lines():
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data += line.partition(":")[2].strip()
            elif line == "" and kind:
                await self.queue.put((kind, json.loads(data) if data else None))
                kind, data = "", ""

    async def message(self) -> tuple[str, Any]:
        return await asyncio.wait_for(self.queue.get(), WAIT)

    async def event(self) -> dict[str, Any]:
        kind, payload = await self.message()
        assert kind == "next", (kind, payload)
        assert "errors" not in payload, payload
        event: dict[str, Any] = payload["data"]["contactEvents"]
        return event

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]


@contextlib.asynccontextmanager
async def sse_subscription(
    base_url: str,
    credential: str | None,
    variables: dict[str, Any] | None = None,
    *,
    query: str = SUBSCRIPTION,
) -> AsyncIterator[SseSubscription]:
    """Subscribed over SSE (POST ``/graphql``, ``Accept: text/event-stream``); the response read in
    the background until the block ends."""
    headers = {"accept": "text/event-stream"}
    if credential is not None:
        headers["authorization"] = f"Bearer {credential}"
    subscription = SseSubscription()
    started = asyncio.Event()
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(WAIT, read=None)) as client:

        async def run() -> None:
            body = {"query": query, "variables": variables or {}}
            async with client.stream("POST", "/graphql", json=body, headers=headers) as response:
                started.set()
                if response.status_code != 200:
                    await response.aread()
                    await subscription.queue.put(("http", response.json()))
                    return
                await subscription.read(response)

        task = asyncio.create_task(run())
        try:
            await asyncio.wait_for(started.wait(), WAIT)
            yield subscription
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task

"""The GetResponse 1.5 emulator as a Starlette app: JSON-RPC at ``POST /``, control plane at ``/_emulator/``.

Transport decisions:

- Bodies over ``max_request_bytes`` (1,048,576, the documented maximum) are refused with HTTP 413 and
  a JSON-RPC ``-32600`` body, without reading the rest: that limit has the shape of a front proxy's
  body-size limit, which answers before the API sees anything.
- Replies over ``gzip_minimum_bytes`` (1 KB) are gzipped for clients that accept it, as documented,
  at the fastest compression level: the emulator shares the machine with the gateway it serves, and a
  higher level would spend its CPU for little gain on JSON.
- Only ``POST /`` is the API; other verbs get 405.

Control routes added to the shared ones (``sandbox/emulators/control.py``)::

    POST /_emulator/unsubscribe   {"contact": ID, "message": MESSAGE_ID | null}: the person clicks an
                                  unsubscribe link; removal with reason "unsubscribe", callback fired
    GET  /_emulator/callbacks     {"deliveries": [...]}: every callback attempt and how it ended
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.control import CONTROL_PREFIX, Clock, EmulatorControl, FaultMiddleware, json_response
from emulators.large import settle_seeded_account

from .callbacks import CallbackDispatcher, unsubscribe_params
from .errors import RpcError, invalid_request
from .methods import GetResponseApi
from .rpc import JsonRpcEndpoint
from .seed_data import seed_account
from .settings import GetResponseEmulatorSettings
from .store import GetResponseStore

__all__ = ["create_app"]


def create_app(settings: GetResponseEmulatorSettings | None = None) -> Starlette:
    settings = settings or GetResponseEmulatorSettings()
    clock = Clock()
    store = GetResponseStore(
        clock,
        seed_account(settings),
        confirmation_delay_seconds=settings.confirmation_delay_seconds,
        json_cache_removals=settings.json_cache_removals,
    )
    settle_seeded_account(settings.contacts, settings.gc_freeze_from_contacts)
    callbacks = CallbackDispatcher(clock, timeout_seconds=settings.callback_timeout_seconds)

    def reseed() -> None:
        store.load(seed_account(settings))
        settle_seeded_account(settings.contacts, settings.gc_freeze_from_contacts)
        callbacks.reset()

    def ground_truth() -> dict[str, Any]:
        api.confirm_queued()
        return store.ground_truth()

    control = EmulatorControl(reseed=reseed, ground_truth=ground_truth, clock=clock, seed=settings.seed)
    api = GetResponseApi(settings, store, control.log, callbacks)
    endpoint = JsonRpcEndpoint(api.dispatch, include_null_error_in_v2=settings.v2_success_includes_null_error)

    async def json_rpc(request: Request) -> Response:
        body = await _read_body(request, settings.max_request_bytes)
        if body is None:
            too_large = invalid_request(f"request larger than {settings.max_request_bytes} bytes")
            return json_response({"jsonrpc": "2.0", "error": too_large.to_json(), "id": None}, 413)
        api.confirm_queued()
        reply = endpoint.handle(body)
        if reply.status_code == 204:
            return Response(status_code=204)
        return Response(reply.body, status_code=reply.status_code, media_type="application/json")

    async def unsubscribe(request: Request) -> Response:
        api.confirm_queued()
        try:
            payload = orjson.loads(await request.body())
            contact_id, message_id = payload["contact"], payload.get("message")
            if not isinstance(contact_id, str) or not isinstance(message_id, str | None):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return json_response(
                {"error": 'body must be {"contact": ID, "message": MESSAGE_ID or null}'}, 400
            )
        try:
            removal = store.delete_contact(contact_id, reason="unsubscribe", message_id=message_id)
        except RpcError as error:
            return json_response({"error": error.message}, 404)
        callback_sent = False
        if store.callbacks is not None and "unsubscribe" in store.callbacks.actions:
            campaign = store.campaigns[removal.campaign_id]
            params = unsubscribe_params(
                store.account, campaign, removal.contact_id, removal.name, removal.email
            )
            callbacks.send(store.callbacks.uri, params)
            callback_sent = True
        return json_response(
            {"unsubscribed": 1, "contact": removal.contact_id, "callback_sent": callback_sent}
        )

    async def deliveries(request: Request) -> Response:
        return json_response({"deliveries": [delivery.to_json() for delivery in callbacks.deliveries]})

    routes = [
        *control.routes(),
        Route(f"{CONTROL_PREFIX}/unsubscribe", unsubscribe, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/callbacks", deliveries, methods=["GET"]),
        Route("/", json_rpc, methods=["POST"]),
    ]
    middleware = [Middleware(FaultMiddleware, control=control)]
    if settings.gzip_minimum_bytes is not None:
        middleware.append(
            Middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes, compresslevel=1)
        )
    app = Starlette(routes=routes, middleware=middleware)
    app.state.settings = settings
    app.state.control = control
    app.state.store = store
    app.state.callbacks = callbacks
    return app


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

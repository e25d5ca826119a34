"""The Constant Contact v3 emulator as a Starlette app: the API under ``/v3``, the token endpoint, and
the control plane under ``/_emulator/``.

Unknown paths answer 404 and wrong methods 405, both in CC's error-array shape.  A trailing slash is
never redirected: ``/v3/contacts/`` is a member path with an empty id, so it is a 404 (the least
forgiving reading; CC documents nothing about it), never the collection.

Control routes added to the shared ones (``sandbox/emulators/control.py``)::

    POST /_emulator/tokens/expire          {"tokens": [...]} or no body (= all): those access tokens stop
                                           working now, so a client's refresh-on-401 can be tested;
                                           answers {"expired": N}
    POST /_emulator/tokens/revoke-refresh  every refresh token becomes invalid (invalid_grant);
                                           answers {"revoked": N}
    GET  /_emulator/tokens                 {"valid_access_tokens": N} (counts only, never tokens)

``GET /_emulator/ground-truth`` answers ``{"contacts": {id: contact with every subresource and its
"status"}, "lists": {id: list with membership_count}, "activities": {id: activity with "type" and
"contact_ids"}}``, contacts in creation order.  ``POST /_emulator/reset`` also restores the configured
tokens and clears the rate limits.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from emulators.control import CONTROL_PREFIX, Clock, EmulatorControl, FaultMiddleware, json_response
from emulators.large import settle_seeded_account

from .activities import ActivityBook
from .api import ConstantContactApi
from .auth import TokenRegistry
from .errors import method_not_allowed, route_not_found
from .limits import RateLimits
from .seed_data import seed_account
from .settings import ConstantContactEmulatorSettings
from .store import ConstantContactStore

__all__ = ["TOKEN_PATH", "create_app"]

TOKEN_PATH = "/oauth2/default/v1/token"


def create_app(settings: ConstantContactEmulatorSettings | None = None) -> Starlette:
    settings = settings or ConstantContactEmulatorSettings()
    clock = Clock()
    store = ConstantContactStore(
        clock, seed_account(settings), json_cache_contacts=settings.json_cache_contacts
    )
    settle_seeded_account(settings.contacts, settings.gc_freeze_from_contacts)
    activities = ActivityBook(store, settings)
    tokens = TokenRegistry(settings, clock)
    limits = RateLimits(
        clock, rate=settings.requests_per_second, burst=settings.burst, daily_quota=settings.daily_quota
    )

    def reseed() -> None:
        store.load(seed_account(settings))
        settle_seeded_account(settings.contacts, settings.gc_freeze_from_contacts)
        activities.reset()
        tokens.load()
        limits.reset()

    def ground_truth() -> dict[str, Any]:
        activities.settle(clock.now())
        return {**store.ground_truth(), "activities": activities.ground_truth()}

    control = EmulatorControl(reseed=reseed, ground_truth=ground_truth, clock=clock, seed=settings.seed)
    api = ConstantContactApi(settings, store, activities, tokens, limits, control.log)

    async def token(request: Request) -> Response:
        control.log.record("token")
        return await tokens.token_endpoint(request)

    async def expire_tokens(request: Request) -> Response:
        body = await request.body()
        try:
            chosen = orjson.loads(body).get("tokens") if body.strip() else None
            if chosen is not None and not (
                isinstance(chosen, list) and all(isinstance(t, str) for t in chosen)
            ):
                raise TypeError
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            return json_response({"error": 'body must be empty or {"tokens": [TOKEN, ...]}'}, 400)
        return json_response({"expired": tokens.expire(chosen)})

    async def revoke_refresh(request: Request) -> Response:
        return json_response({"revoked": tokens.revoke_refresh_tokens()})

    async def token_counts(request: Request) -> Response:
        return json_response({"valid_access_tokens": tokens.valid_access_tokens()})

    routes = [
        *control.routes(),
        Route(f"{CONTROL_PREFIX}/tokens/expire", expire_tokens, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/tokens/revoke-refresh", revoke_refresh, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/tokens", token_counts, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        *api.routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware, control=control)],
        exception_handlers={HTTPException: _http_error},
    )
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.control = control
    app.state.store = store
    app.state.activities = activities
    app.state.tokens = tokens
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing failures in CC's shape: unknown path 404, wrong method 405."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        # Starlette names only the first route that matched the path; every matching route counts.
        allowed: set[str] = set()
        for route in request.app.router.routes:
            if isinstance(route, Route) and route.matches(request.scope)[0] is Match.PARTIAL:
                allowed.update(route.methods or ())
        response = method_not_allowed().response()
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response
    if status == 404:
        return route_not_found().response()
    return json_response([{"error_key": "server.error", "error_message": "Unexpected error."}], status)

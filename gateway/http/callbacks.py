"""``GET /callbacks/getresponse``: GetResponse's account callback (an unsubscribe link was clicked).

The registered URL carries the shared secret as ``?secret=...`` (``gateway callbacks register``);
GetResponse appends its own parameters to it.  The secret never reaches a log: the access log writes
the path without its query string, and a refusal is logged with the caller's address and action only.

=====  =====================================================================
200    accepted: ``{"event": {"position": ..., "eventId": ...}}`` or ``{"event": null}`` (another
       action, or a repeat the outbox dropped)
400    BAD_USER_INPUT: an unsubscribe without ``CONTACT_ID`` or ``contact_email``
403    CALLBACK_REFUSED: the secret is missing or wrong (or callbacks are not configured)
503    DATABASE_ERROR: the outbox cannot be written (GetResponse does not retry; the next sync
       still finds the deletion)
=====  =====================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import DatabaseError, GatewayError, UserInputError
from gateway.feed import CallbackRefused, UnsubscribeCallback

__all__ = ["CALLBACK_PATH", "SECRET_PARAMETER", "getresponse_callback_route"]

logger = logging.getLogger("gateway.callbacks")

CALLBACK_PATH = "/callbacks/getresponse"
SECRET_PARAMETER = "secret"


def _json(payload: object, status_code: int) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


def _error(error: GatewayError, status_code: int) -> Response:
    return _json({"errors": [{"message": error.message, "extensions": {"code": error.code}}]}, status_code)


def getresponse_callback_route(receiver: Callable[[], UnsubscribeCallback]) -> Route:
    """The callback's route; ``receiver()`` is read per request (built when the application starts)."""

    async def callback(request: Request) -> Response:
        params = {key: value for key, value in request.query_params.items() if key != SECRET_PARAMETER}
        try:
            event = await receiver().receive(request.query_params.get(SECRET_PARAMETER), params)
        except CallbackRefused as refused:
            client = request.client.host if request.client is not None else "-"
            logger.warning(
                "refused a GetResponse callback client=%s action=%s", client, params.get("action", "")[:32]
            )
            return _error(refused, 403)
        except UserInputError as error:
            return _error(error, 400)
        except DatabaseError as error:
            return _error(error, 503)
        body = None if event is None else {"position": event.position, "eventId": event.event_id}
        return _json({"event": body}, 200)

    return Route(CALLBACK_PATH, callback, methods=["GET"])

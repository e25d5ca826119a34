"""The v3 endpoints and the checks every API request goes through.

Every request to a known operation, in this order:

1. counted in the request log under its Swagger ``operationId``, whatever happens next;
2. ``Authorization: Bearer <valid token>`` -> otherwise 401 ``unauthorized`` (counted as
   ``unauthorized`` too);
3. the token's limits -> 429 ``quota_exceeded`` or ``throttled`` (each also counted under that key, so
   a test can prove a client never met a 429);
4. due bulk-activity items are applied (the clock may have moved);
5. a body (POST, PUT, or a DELETE that has one) must be ``application/json`` -> 415, must parse and be
   a JSON object -> 400;
6. the operation: path ids that are not UUIDs and unknown ids are 404s, bad parameters 400s.

DELETE (``deleteContact``) answers 204 and deletes; on an already-deleted contact it answers 204 and
changes nothing, or 404 with ``delete_deleted_contact_status=404`` (UNCONFIRMED).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.control import RequestLog, json_response

from .activities import ActivityBook
from .auth import TokenRegistry
from .contacts import ContactWriter
from .errors import ApiError, contact_not_found, unauthorized, unsupported_media_type, validation_error
from .limits import RateLimits
from .listing import ContactListing, contact_lists_page
from .model import INCLUDES, contact_json
from .params import QueryReader
from .settings import ConstantContactEmulatorSettings
from .store import ConstantContactStore

__all__ = ["OPERATIONS", "ConstantContactApi"]

Handler = Callable[[Request, dict[str, Any] | None], Response]

# (method, path, operationId) of every emulated operation, in routing order.
OPERATIONS = (
    ("GET", "/v3/contacts", "getContacts"),
    ("POST", "/v3/contacts", "createContact"),
    ("POST", "/v3/contacts/sign_up_form", "createOrUpdateContact"),
    ("GET", "/v3/contacts/{contact_id}", "getContact"),
    ("PUT", "/v3/contacts/{contact_id}", "putContact"),
    ("DELETE", "/v3/contacts/{contact_id}", "deleteContact"),
    ("POST", "/v3/activities/contact_delete", "postContactDelete"),
    ("POST", "/v3/activities/add_list_memberships", "postListAddContact"),
    ("GET", "/v3/activities/{activity_id}", "getActivity"),
    ("GET", "/v3/contact_lists", "getLists"),
)


class ConstantContactApi:
    def __init__(
        self,
        settings: ConstantContactEmulatorSettings,
        store: ConstantContactStore,
        activities: ActivityBook,
        tokens: TokenRegistry,
        limits: RateLimits,
        log: RequestLog,
    ) -> None:
        self.settings = settings
        self.store = store
        self.activities = activities
        self.tokens = tokens
        self.limits = limits
        self.log = log
        self.writer = ContactWriter(store, settings)
        self.listing = ContactListing(store, always_include_count=settings.always_include_count)
        self._handlers: dict[str, Handler] = {
            "getContacts": self._get_contacts,
            "createContact": self._create_contact,
            "createOrUpdateContact": self._sign_up,
            "getContact": self._get_contact,
            "putContact": self._put_contact,
            "deleteContact": self._delete_contact,
            "postContactDelete": self._post_contact_delete,
            "postListAddContact": self._post_list_add,
            "getActivity": self._get_activity,
            "getLists": self._get_lists,
        }

    def routes(self) -> list[Route]:
        return [
            Route(path, self._endpoint(operation), methods=[method], name=operation)
            for method, path, operation in OPERATIONS
        ]

    def _endpoint(self, operation: str) -> Callable[[Request], Awaitable[Response]]:
        handler = self._handlers[operation]

        async def endpoint(request: Request) -> Response:
            self.log.record(operation)
            try:
                self._admit(request)
                self.activities.settle(self.store.clock.now())
                payload = await _json_body(request)
                return handler(request, payload)
            except ApiError as error:
                return error.response()

        return endpoint

    def _admit(self, request: Request) -> None:
        principal = self.tokens.principal(request.headers.get("authorization"))
        if principal is None:
            self.log.record("unauthorized")
            raise unauthorized()
        refusal = self.limits.admit(principal)
        if refusal is not None:
            self.log.record(refusal.errors[0][0])
            raise refusal

    # -- contacts ----------------------------------------------------------------------------------

    def _get_contacts(self, request: Request, payload: dict[str, Any] | None) -> Response:
        return json_response(self.listing.page(request.query_params))

    def _get_contact(self, request: Request, payload: dict[str, Any] | None) -> Response:
        reader = QueryReader({"include": ",".join(request.query_params.getlist("include"))})
        include = reader.csv("include", INCLUDES) or ()
        reader.finish()
        contact = self.store.contact(request.path_params["contact_id"])
        return json_response(contact_json(contact, include))

    def _create_contact(self, request: Request, payload: dict[str, Any] | None) -> Response:
        contact = self.writer.create(_required(payload))
        return json_response(contact_json(contact, INCLUDES), 201)

    def _put_contact(self, request: Request, payload: dict[str, Any] | None) -> Response:
        contact = self.store.contact(request.path_params["contact_id"])
        self.writer.replace(contact, _required(payload))
        return json_response(contact_json(contact, INCLUDES))

    def _delete_contact(self, request: Request, payload: dict[str, Any] | None) -> Response:
        contact = self.store.contact(request.path_params["contact_id"])
        if contact.deleted:
            if self.settings.delete_deleted_contact_status == 404:
                raise contact_not_found(contact.contact_id)
        else:
            self.store.delete(contact, self.store.clock.now())
        return Response(status_code=204)

    def _sign_up(self, request: Request, payload: dict[str, Any] | None) -> Response:
        contact, created = self.writer.sign_up(_required(payload))
        body = {"contact_id": contact.contact_id, "action": "created" if created else "updated"}
        return json_response(body, 201 if created else 200)

    # -- activities and lists ----------------------------------------------------------------------

    def _post_contact_delete(self, request: Request, payload: dict[str, Any] | None) -> Response:
        activity = self.activities.start_delete(_required(payload))
        return json_response(activity.to_json(self.store.clock.now()), 201)

    def _post_list_add(self, request: Request, payload: dict[str, Any] | None) -> Response:
        activity = self.activities.start_list_add(_required(payload))
        return json_response(activity.to_json(self.store.clock.now()), 201)

    def _get_activity(self, request: Request, payload: dict[str, Any] | None) -> Response:
        activity = self.activities.get(request.path_params["activity_id"])
        return json_response(activity.to_json(self.store.clock.now(), detailed=True))

    def _get_lists(self, request: Request, payload: dict[str, Any] | None) -> Response:
        return json_response(contact_lists_page(self.store, request.query_params))


def _required(payload: dict[str, Any] | None) -> dict[str, Any]:
    if payload is None:
        raise validation_error("A JSON request body is required.")
    return payload


async def _json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object a POST or PUT (or a DELETE with a body) carries; None when there is no body."""
    body = await request.body()
    if request.method == "GET" or (request.method == "DELETE" and not body):
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise unsupported_media_type()
    if request.method == "DELETE":
        return None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise validation_error("The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise validation_error("The request body must be a JSON object.")
    return payload

"""The errors the emulator answers with, in Constant Contact's two shapes.

CC documents an error body as an *array* of ``{error_key, error_message}`` (``APIErrorSchema``), and
the emulator uses it for 400, 404, 405, 409 and 415.  Authorization failures (401) and rate limits
(429) come back as a *single object* of the same two fields (``AuthorizationErrorSchema``, and what
users observed for ``throttled``).  Clients must read both.

Keys and texts follow what CC is documented or observed to send (``contacts.api.validation.error``,
``contacts.api.not_found`` "contact_id is in an invalid format.", ``contacts.api.conflict`` "Validation
failed: Email already exists for contact <id>", ``unauthorized``, ``throttled`` "Too Many Requests",
``quota_exceeded`` "Limit Exceeded").  The others are the emulator's choice (UNCONFIRMED):
``activities.api.not_found``, ``unsupported_media_type`` (415), ``method_not_allowed`` (405) and
``resource.not_found`` for unknown paths.  Messages name fields and ids, never request headers.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulators.control import json_response

__all__ = [
    "VALIDATION_KEY",
    "ApiError",
    "activity_not_found",
    "conflict",
    "contact_not_found",
    "invalid_id",
    "method_not_allowed",
    "quota_exceeded",
    "route_not_found",
    "throttled",
    "unauthorized",
    "unsupported_media_type",
    "validation_error",
]

VALIDATION_KEY = "contacts.api.validation.error"


class ApiError(Exception):
    """An HTTP error with CC's body: an array of errors, or one bare object when ``single``."""

    def __init__(self, status: int, errors: list[tuple[str, str]], *, single: bool = False) -> None:
        super().__init__(errors[0][1] if errors else str(status))
        self.status = status
        self.errors = errors
        self.single = single

    def body(self) -> Any:
        items = [{"error_key": key, "error_message": message} for key, message in self.errors]
        return items[0] if self.single else items

    def response(self) -> Response:
        return json_response(self.body(), self.status)

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, errors={self.errors!r})"


def validation_error(*messages: str) -> ApiError:
    return ApiError(400, [(VALIDATION_KEY, message) for message in messages])


def invalid_id(name: str) -> ApiError:
    return ApiError(404, [("contacts.api.not_found", f"{name} is in an invalid format.")])


def contact_not_found(contact_id: str) -> ApiError:
    return ApiError(404, [("contacts.api.not_found", f"Contact {contact_id} was not found.")])


def activity_not_found(activity_id: str | None) -> ApiError:
    """``None``: the id was not UUID-shaped."""
    if activity_id is None:
        return ApiError(404, [("activities.api.not_found", "activity_id is in an invalid format.")])
    return ApiError(404, [("activities.api.not_found", f"Activity {activity_id} was not found.")])


def route_not_found() -> ApiError:
    return ApiError(404, [("resource.not_found", "The requested resource was not found.")])


def method_not_allowed() -> ApiError:
    return ApiError(405, [("method_not_allowed", "The method is not supported for this resource.")])


def conflict(existing_contact_id: str) -> ApiError:
    message = f"Validation failed: Email already exists for contact {existing_contact_id}"
    return ApiError(409, [("contacts.api.conflict", message)])


def unsupported_media_type() -> ApiError:
    return ApiError(415, [("unsupported_media_type", "Content-Type must be application/json.")])


def unauthorized() -> ApiError:
    return ApiError(401, [("unauthorized", "Unauthorized")], single=True)


def throttled() -> ApiError:
    return ApiError(429, [("throttled", "Too Many Requests")], single=True)


def quota_exceeded() -> ApiError:
    return ApiError(429, [("quota_exceeded", "Limit Exceeded")], single=True)

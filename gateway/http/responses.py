"""GraphQL results and refusals as HTTP responses: body, status code and headers.

Status codes follow GraphQL over HTTP:

- ``application/json``: 200 for every well-formed request, whatever errors the body holds.
- ``application/graphql-response+json``: 200 whenever the response has a ``data`` entry (even null,
  even next to field errors); without one it is a request error (parse, validation, variable
  coercion, unknown operation) and the status is 400 -- or 500 when the only cause is a failure of
  the server itself, which the body shows as a masked ``INTERNAL_SERVER_ERROR``: a 4xx would blame
  the caller, and the spec requires a non-2xx status when ``data`` is absent.

A result has no ``data`` entry when execution never started.  Strawberry marks most of those as a
``PreExecutionError``; variable coercion fails inside graphql-core's ``execute`` and comes back as a
plain result with ``data`` None, told apart from a null ``data`` by its errors having no ``path``.

Bodies are encoded with orjson: the standard library's ``json`` is the slower encoder on large results,
and a page of contacts is one.
Responses are never cached (``no-store``): they hold personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.observability.request_record import note_answer

from .negotiation import MediaType
from .rejections import RequestRejected

__all__ = [
    "INTERNAL_ERROR_CODE",
    "error_body",
    "graphql_response",
    "internal_error_response",
    "rejection_response",
    "result_body",
]

INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"

_HEADERS = {"Cache-Control": "no-store", "Vary": "Accept", "X-Content-Type-Options": "nosniff"}


def result_body(result: ExecutionResult) -> tuple[dict[str, Any], bool]:
    """The response body of one execution, and whether it has a ``data`` entry."""
    errors = result.errors or []
    has_data = not (
        isinstance(result, PreExecutionError)
        or (result.data is None and errors and all(error.path is None for error in errors))
    )
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = [_format(error) for error in errors]
    if has_data:
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return body, has_data


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    return formatted


def _only_internal_errors(body: Mapping[str, Any]) -> bool:
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors", ())]
    return bool(codes) and all(code == INTERNAL_ERROR_CODE for code in codes)


def graphql_response(
    body: dict[str, Any], *, has_data: bool, media_type: MediaType, headers: Mapping[str, str] | None = None
) -> Response:
    status = 200
    if media_type is MediaType.GRAPHQL_RESPONSE_JSON and not has_data:
        status = 500 if _only_internal_errors(body) else 400
    return _response(body, status, media_type, headers)


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def rejection_response(rejection: RequestRejected, media_type: MediaType | None) -> Response:
    body = error_body(rejection.message, rejection.code)
    return _response(body, rejection.status_code, media_type or MediaType.JSON, rejection.headers)


def internal_error_response(request_id: str, media_type: MediaType | None) -> Response:
    """The masked answer to an exception nobody handled: no message, no traceback, the request id."""
    media_type = media_type or MediaType.JSON
    body = error_body("Unexpected error.", INTERNAL_ERROR_CODE, requestId=request_id)
    status = 500 if media_type is MediaType.GRAPHQL_RESPONSE_JSON else 200
    return _response(body, status, media_type)


def _response(
    body: Mapping[str, Any], status: int, media_type: MediaType, headers: Mapping[str, str] | None = None
) -> Response:
    note_answer(body)  # every GraphQL body passes here: its outcome and error codes feed the metrics
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers={**_HEADERS, **(headers or {})},
        media_type=media_type.content_type,
    )

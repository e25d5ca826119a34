"""The GraphQL request parameters (query, operationName, variables, extensions) out of an HTTP request.

POST takes a JSON object body; GET takes the same names in the query string, with ``variables`` and
``extensions`` as JSON-encoded strings (GraphQL over HTTP, "Request Parameters").  ``null`` is the same
as absent for every parameter but ``query``; a parameter of the wrong type is a 400, never a guess.
Unknown keys are ignored, as the spec allows.

``query`` may be absent when the request names a persisted document instead: a
``extensions.persistedQuery`` (Apollo's automatic persisted queries) or a ``documentId``.  Which text
then runs is :mod:`gateway.http.documents`'s decision, not this module's.

Only ``application/json`` bodies are read: a form or text body is a "simple" cross-site request that a
browser sends without a CORS preflight, so refusing them (415) is the endpoint's CSRF defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from .rejections import bad_request, payload_too_large, unsupported_media_type

__all__ = ["GraphQLParams", "params_from_body", "params_from_query_string", "read_json_body"]


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    """None only when the request names a persisted document (``persisted`` or ``document_id``)."""
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None

    @property
    def persisted(self) -> object:
        """``extensions.persistedQuery`` as sent (checked by ``gateway.http.documents``), or None."""
        return (self.extensions or {}).get("persistedQuery")


def _is_json_content_type(header: str | None) -> bool:
    if header is None:
        return False
    media, *params = (part.strip().lower() for part in header.split(";"))
    if media != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


async def read_json_body(request: Request, limit: int) -> bytes:
    """The raw body of a JSON POST; 415 for other media types, 413 as soon as it exceeds ``limit``."""
    if not _is_json_content_type(request.headers.get("content-type")):
        raise unsupported_media_type()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise payload_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise payload_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def params_from_body(body: bytes) -> GraphQLParams:
    if not body.strip():
        raise bad_request("The request body is empty; send a JSON object with a query.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON (utf-8).") from None
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.")
    return _params(payload)


def params_from_query_string(query_params: QueryParams) -> GraphQLParams:
    return _params(
        {
            "query": query_params.get("query"),
            "operationName": query_params.get("operationName"),
            "variables": _json_param(query_params, "variables"),
            "extensions": _json_param(query_params, "extensions"),
            "documentId": query_params.get("documentId"),
        }
    )


def _json_param(query_params: QueryParams, name: str) -> Any:
    raw = query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request(f"The {name} parameter must be a JSON-encoded object.") from None


def _params(payload: Mapping[str, Any]) -> GraphQLParams:
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise bad_request("The extensions parameter must be an object or null.")
    document_id = payload.get("documentId")
    if document_id is not None and not isinstance(document_id, str):
        raise bad_request("The documentId parameter must be a string or null.")
    query = payload.get("query")
    if query == "":
        query = None
    if query is None and not document_id and (extensions or {}).get("persistedQuery") is None:
        raise bad_request("The query parameter is missing.")
    if query is not None and not isinstance(query, str):
        raise bad_request("The query parameter must be a string.")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("The operationName parameter must be a string or null.")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise bad_request("The variables parameter must be an object or null.")
    return GraphQLParams(query, operation_name or None, variables, extensions, document_id or None)

"""How errors leave the gateway: a typed ``extensions.code`` on every one, and nothing unexpected leaks.

- Parse, validation and variable-coercion errors keep their message and get
  ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED`` / ``BAD_USER_INPUT``.
- Errors the gateway raises on purpose (``gateway.errors.GatewayError`` and the provider subtree) keep
  their message and carry their ``code``; provider errors also carry ``provider`` and, where known,
  ``retryAfter`` (seconds).
- A ``RecursionError`` (a document nested past what some library walks recursively; the gateway's
  own limits and graphql-core's guards are meant to stop that earlier) is ``GRAPHQL_VALIDATION_FAILED``.
- Anything else is masked: "Unexpected error." with ``INTERNAL_SERVER_ERROR`` and the request id, and
  the original is logged with the same request id and its traceback.
- Partial failures (one provider failed, the others answered) are collected in the context while
  resolving and appended here, next to the data.

``GatewaySchema.execute`` applies :func:`shape_errors` to every result, including the ones Strawberry
produces outside its extension hooks (parse errors, token limits).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

from gateway.errors import Forbidden, GatewayError, ProviderError

__all__ = ["error_extensions", "partial_error", "shape_errors", "without_suggestions"]

logger = logging.getLogger("gateway.errors")


def error_extensions(error: GatewayError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if isinstance(error, ProviderError):
        extensions["provider"] = error.provider.name
    if isinstance(error, Forbidden):
        extensions["scope"] = error.scope
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        extensions["retryAfter"] = round(float(retry_after), 3)
    return extensions


def partial_error(error: GatewayError, path: Sequence[str | int]) -> GraphQLError:
    return GraphQLError(
        error.message if not isinstance(error, ProviderError) else str(error),
        path=list(path),
        extensions=error_extensions(error),
    )


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def without_suggestions(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """The same errors with graphql-core's "Did you mean ...?" hints cut off their messages."""
    return [
        GraphQLError(
            _SUGGESTION.sub("", error.message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )
        if _SUGGESTION.search(error.message)
        else error
        for error in errors
    ]


def _request_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def shape_errors(errors: Sequence[GraphQLError], context: Any) -> list[GraphQLError]:
    """The errors of one response, each with a code; unexpected ones masked and logged."""
    request_id = getattr(context, "request_id", None)
    collected = [*errors, *getattr(context, "partial_errors", ())]
    return [_shape(error, request_id) for error in collected]


def _shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    # Variable coercion fails before execution (no path) with an original error; its message is
    # written for the caller ("Variable '$f' has invalid value at .deletedOn.from: ...").
    is_coercion = error.path is None and error.message.startswith("Variable '$")
    if original is None or (is_coercion and not isinstance(original, GatewayError)):
        return _with_extensions(error, error.message, {"code": _request_code(error.message)})
    if isinstance(original, RecursionError):
        logger.warning("recursion limit reached request_id=%s path=%s", request_id, error.path)
        return _with_extensions(
            error, "The document is nested too deeply.", {"code": "GRAPHQL_VALIDATION_FAILED"}
        )
    if isinstance(original, GatewayError):
        message = str(original) if isinstance(original, ProviderError) else original.message
        if isinstance(original, ProviderError):
            logger.warning("provider error request_id=%s %r", request_id, original)
        return _with_extensions(error, message, error_extensions(original))
    logger.error("unexpected error request_id=%s path=%s", request_id, error.path, exc_info=original)
    return _with_extensions(
        error, "Unexpected error.", {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    )


def _with_extensions(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), **extensions},
    )

"""Requests the endpoint refuses before GraphQL sees them, each with its HTTP status and error code.

Every refusal still has a GraphQL-shaped body (``{"errors": [{"message", "extensions": {"code"}}]}``)
so a client reads one error format whatever went wrong.  Codes:

=====  =========================  =====================================================
405    METHOD_NOT_ALLOWED         a verb other than GET/POST, or a mutation sent by GET
406    NOT_ACCEPTABLE             ``Accept`` allows neither GraphQL response media type
413    PAYLOAD_TOO_LARGE          the body is over the endpoint's limit
415    UNSUPPORTED_MEDIA_TYPE     a POST body that is not ``application/json`` (utf-8)
400    BAD_REQUEST                malformed JSON, or GraphQL parameters of the wrong type
=====  =========================  =====================================================
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "RequestRejected",
    "bad_request",
    "method_not_allowed",
    "not_acceptable",
    "payload_too_large",
    "unsupported_media_type",
]


class RequestRejected(Exception):
    def __init__(
        self, status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> RequestRejected:
    return RequestRejected(400, "BAD_REQUEST", message)


def method_not_allowed(message: str, allow: str) -> RequestRejected:
    return RequestRejected(405, "METHOD_NOT_ALLOWED", message, {"Allow": allow})


def not_acceptable() -> RequestRejected:
    return RequestRejected(
        406,
        "NOT_ACCEPTABLE",
        "Accept must allow application/graphql-response+json or application/json.",
    )


def payload_too_large(limit: int) -> RequestRejected:
    return RequestRejected(413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes.")


def unsupported_media_type() -> RequestRejected:
    return RequestRejected(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "POST bodies must be application/json (utf-8); use GET with a query string otherwise.",
    )

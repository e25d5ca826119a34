"""Requests the endpoint refuses before GraphQL sees them, each with its HTTP status and error code.

Every refusal still has a GraphQL-shaped body (``{"errors": [{"message", "extensions": {"code"}}]}``)
so a client reads one error format whatever went wrong.  Codes:

=====  =========================  =====================================================
405    METHOD_NOT_ALLOWED         a verb other than GET/POST, or a mutation sent by GET
406    NOT_ACCEPTABLE             ``Accept`` allows neither GraphQL response media type
413    PAYLOAD_TOO_LARGE          the body is over the endpoint's limit
415    UNSUPPORTED_MEDIA_TYPE     a POST body that is not ``application/json`` (utf-8)
400    BAD_REQUEST                malformed JSON, or GraphQL parameters of the wrong type
200    PERSISTED_QUERY_NOT_FOUND  a hash without its text that is not registered (APQ)
200    PERSISTED_QUERY_NOT_SUPP.. a hash without its text while APQ is off
400    PERSISTED_QUERY_HASH_MIS.. a text whose SHA-256 is not the hash sent with it
400    PERSISTED_QUERY_NOT_ALLOW  trusted-documents mode: a document not in the manifest
=====  =========================  =====================================================

The two persisted-query answers a client recovers from are 200, as Apollo Server sends them: Apollo's
``PersistedQueryLink`` and urql's ``persistedExchange`` read the code from the body and send the text
next (NOT_FOUND) or stop sending hashes (NOT_SUPPORTED).  Full codes: ``PERSISTED_QUERY_NOT_SUPPORTED``,
``PERSISTED_QUERY_HASH_MISMATCH``, ``PERSISTED_QUERY_NOT_ALLOWED``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "RequestRejected",
    "bad_request",
    "method_not_allowed",
    "not_acceptable",
    "payload_too_large",
    "persisted_query_hash_mismatch",
    "persisted_query_not_allowed",
    "persisted_query_not_found",
    "persisted_query_not_supported",
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


def persisted_query_not_found() -> RequestRejected:
    # The message is the one Apollo Server sends: older clients match on it rather than on the code.
    return RequestRejected(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


def persisted_query_not_supported() -> RequestRejected:
    return RequestRejected(200, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")


def persisted_query_hash_mismatch() -> RequestRejected:
    return RequestRejected(
        400, "PERSISTED_QUERY_HASH_MISMATCH", "The query's SHA-256 is not the sha256Hash sent with it."
    )


def persisted_query_not_allowed() -> RequestRejected:
    return RequestRejected(
        400,
        "PERSISTED_QUERY_NOT_ALLOWED",
        "Only the documents of the gateway's trusted-documents manifest may run.",
    )

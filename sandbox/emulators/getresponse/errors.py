"""The errors the emulator answers with, as JSON-RPC error objects.

GetResponse reports every method error as code ``-1`` with a fixed English ``message`` (the exact texts
are below, spelled as the DevZone README spells them).  The standard JSON-RPC codes cover the
envelope.  ``Invalid params`` is UNCONFIRMED in code and layout: the emulator uses ``-32602`` with the
message ``Invalid params`` and puts the detail (GetResponse's own "Attribute params must be reference
to hash", or the emulator's description of the bad condition) in ``data``, where the official PHP
client looks for it.

Details never quote the API key: they name the offending condition, not the params array.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "API_KEY_FAILED",
    "CONTACT_ALREADY_ADDED",
    "CONTACT_ALREADY_EXISTS",
    "CONTACT_ALREADY_QUEUED",
    "INVALID_EMAIL",
    "INVALID_URI",
    "MISSING_CAMPAIGN",
    "MISSING_CONTACT",
    "MISSING_MESSAGE",
    "PARAMS_NOT_A_HASH",
    "RpcError",
    "internal_error",
    "invalid_params",
    "invalid_request",
    "method_error",
    "method_not_found",
    "parse_error",
]

API_KEY_FAILED = "API key verification failed"
MISSING_CONTACT = "Missing contact"
MISSING_CAMPAIGN = "Missing campaign"
MISSING_MESSAGE = "Missing message"
CONTACT_ALREADY_QUEUED = "Contact already queued for target campaign"
CONTACT_ALREADY_ADDED = "Contact already added to target campaign"
CONTACT_ALREADY_EXISTS = "Contact already exists in target campaign"
INVALID_EMAIL = "Invalid email syntax"
INVALID_URI = "Invalid URI"
PARAMS_NOT_A_HASH = "Attribute params must be reference to hash"


class RpcError(Exception):
    """A JSON-RPC error object; ``http_status`` applies only when it answers a single request."""

    def __init__(self, code: int, message: str, data: Any = None, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"RpcError(code={self.code}, message={self.message!r}, data={self.data!r})"


def method_error(message: str, *, http_status: int = 200) -> RpcError:
    return RpcError(-1, message, http_status=http_status)


def invalid_params(detail: str) -> RpcError:
    return RpcError(-32602, "Invalid params", detail)


def parse_error(detail: str) -> RpcError:
    return RpcError(-32700, "Parse error", detail)


def invalid_request(detail: str) -> RpcError:
    return RpcError(-32600, "Invalid Request", detail)


def method_not_found(method: str) -> RpcError:
    return RpcError(-32601, "Method not found", method[:100])


def internal_error() -> RpcError:
    return RpcError(-32603, "Internal error")

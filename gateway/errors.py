"""The gateway's exception hierarchy, all of it, in one picture.

::

    GatewayError                      base of every error the gateway raises on purpose
    ├── UserInputError                the caller asked for something malformed (BAD_USER_INPUT)
    │   ├── InvalidId                 a global id that does not decode to a known type (INVALID_ID)
    │   ├── InvalidCursor             a cursor that is malformed or belongs to another query (INVALID_CURSOR)
    │   └── CursorExpired             a well-formed cursor whose snapshot is gone (CURSOR_EXPIRED)
    ├── ProviderNotConfigured         the query names a provider with no credentials (PROVIDER_NOT_CONFIGURED)
    ├── BlastRadiusExceeded           a mutation's references resolved to more contacts than they can name
    │                                 (BLAST_RADIUS_EXCEEDED); nothing was changed
    └── ProviderError                 talking to a provider went wrong; the subtree lives in
                                      gateway.providers.errors (timeouts, 429s, auth, 404, 409, ...)

Every class carries ``code``, the value the GraphQL layer puts in ``extensions.code``.  Messages are
written for the caller and never contain credentials.
"""

from __future__ import annotations

__all__ = [
    "BlastRadiusExceeded",
    "CursorExpired",
    "GatewayError",
    "InvalidCursor",
    "InvalidId",
    "ProviderNotConfigured",
    "UserInputError",
]


class GatewayError(Exception):
    code = "GATEWAY_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserInputError(GatewayError):
    code = "BAD_USER_INPUT"


class InvalidId(UserInputError):
    code = "INVALID_ID"


class InvalidCursor(UserInputError):
    code = "INVALID_CURSOR"


class CursorExpired(UserInputError):
    code = "CURSOR_EXPIRED"


class ProviderNotConfigured(GatewayError):
    code = "PROVIDER_NOT_CONFIGURED"


class BlastRadiusExceeded(GatewayError):
    """A provider answered more contacts for a reference than the reference can name (an ignored
    filter, a changed API): the whole mutation is refused before its first write."""

    code = "BLAST_RADIUS_EXCEEDED"

"""Secrets and signatures, as the Standard Webhooks specification defines them.

A secret is ``whsec_`` followed by the base64 of random bytes; those bytes are the HMAC-SHA256 key.
The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the ``webhook-signature`` header is
``v1,`` and the base64 of the MAC (a space-separated list would carry more than one, during a
secret's rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["PREFIX", "new_secret", "sign", "signature_headers"]

PREFIX = "whsec_"


def new_secret(size: int = 24) -> str:
    """A fresh signing secret of ``size`` random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one message."""
    content = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed delivery."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }

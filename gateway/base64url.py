"""Unpadded URL-safe base64 text, the form of the gateway's opaque ids and cursors."""

from __future__ import annotations

import binascii

__all__ = ["encode"]

_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode(text: str) -> str:
    """``base64.urlsafe_b64encode(text.encode())`` without its ``=`` padding.

    Written with ``binascii`` directly, without ``base64``'s two Python-level layers: a page of
    contacts encodes an id and a cursor per contact.
    """
    return binascii.b2a_base64(text.encode(), newline=False).translate(_URL_SAFE).rstrip(b"=").decode()

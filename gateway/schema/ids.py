"""Opaque global ids: ``base64url("<GraphQL type name>:<local id>")``.

The type name tells the gateway which provider and which kind of object an id names, so ``node(id)``
can route it without asking anyone.
"""

from __future__ import annotations

import base64
import binascii

from gateway import base64url
from gateway.core.model import Provider
from gateway.errors import InvalidId, shown

__all__ = ["CONTACT_TYPE_BY_PROVIDER", "PROVIDER_BY_CONTACT_TYPE", "decode_global_id", "encode_global_id"]

CONTACT_TYPE_BY_PROVIDER = {
    Provider.CONSTANT_CONTACT: "ConstantContactDeletedContact",
    Provider.GETRESPONSE: "GetResponseDeletedContact",
}
PROVIDER_BY_CONTACT_TYPE = {name: provider for provider, name in CONTACT_TYPE_BY_PROVIDER.items()}


def encode_global_id(type_name: str, local_id: str) -> str:
    return base64url.encode(f"{type_name}:{local_id}")


def decode_global_id(global_id: str) -> tuple[str, str]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, local_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split(":", 1)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidId(f"{shown(global_id)} is not a valid id") from exc
    if not type_name or not local_id:
        raise InvalidId(f"{shown(global_id)} is not a valid id")
    return type_name, local_id

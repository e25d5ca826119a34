"""UUID ids (contacts, lists, activities, phone numbers...), drawn from the account's seeded generator.

Constant Contact's ids are 36-character UUID strings.  The emulator mints version-4 UUIDs from its own
``random.Random`` so that the same seed always gives the same ids; ids sent by clients are compared
lower-cased, and anything that is not UUID-shaped is "in an invalid format" (404, like CC).
"""

from __future__ import annotations

import random
import re
import uuid

__all__ = ["UuidMinter", "normalized_uuid"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalized_uuid(value: object) -> str | None:
    """``value`` lower-cased when it is a UUID string, else None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    lowered = value.lower()
    return lowered if _UUID.fullmatch(lowered) else None


class UuidMinter:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def mint(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

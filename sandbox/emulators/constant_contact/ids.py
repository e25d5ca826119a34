"""UUID ids (contacts, lists, activities, phone numbers...), drawn from the account's seeded generator.

Constant Contact's ids are 36-character UUID strings.  The emulator mints version-4 UUIDs from its own
``random.Random`` so that the same seed always gives the same ids; ids sent by clients are compared
lower-cased, and anything that is not UUID-shaped is "in an invalid format" (404, like CC).
"""

from __future__ import annotations

import random
import re

__all__ = ["UuidMinter", "normalized_uuid"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalized_uuid(value: object) -> str | None:
    """``value`` lower-cased when it is a UUID string, else None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    lowered = value.lower()
    return lowered if _UUID.fullmatch(lowered) else None


_VERSION_BITS = ~(0xF000 << 64) & ~(0xC000 << 48)  # clears the version nibble and the variant bits
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


class UuidMinter:
    """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, formatted directly.

    The same ids as the ``uuid`` module would make, several times faster: seeding mints millions.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def mint(self) -> str:
        digits = f"{self._rng.getrandbits(128) & _VERSION_BITS | _VERSION_4:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

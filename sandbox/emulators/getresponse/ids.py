"""Short opaque ids like ``4b1b5``, unique across campaigns, messages, contacts and the account.

One namespace for every kind of id means a message id passed where a contact id belongs is simply
unknown (``Missing contact``), as it would be at GetResponse.
"""

from __future__ import annotations

import random
import string

__all__ = ["IdMinter"]

_ALPHABET = string.digits + string.ascii_letters


class IdMinter:
    """Draws one number below ``62 ** length`` per id and writes it in base 62 (seeding mints millions)."""

    def __init__(self, rng: random.Random, length: int = 5) -> None:
        self._rng = rng
        self._length = length
        self._space = len(_ALPHABET) ** length
        self._used: set[str] = set()

    def mint(self) -> str:
        draw, space, used = self._rng.random, self._space, self._used
        while True:
            number = int(draw() * space)
            digits = []
            for _ in range(self._length):
                number, digit = divmod(number, 62)
                digits.append(_ALPHABET[digit])
            candidate = "".join(digits)
            if candidate not in used:
                used.add(candidate)
                return candidate

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
    def __init__(self, rng: random.Random, length: int = 5) -> None:
        self._rng = rng
        self._length = length
        self._used: set[str] = set()

    def mint(self) -> str:
        while True:
            candidate = "".join(self._rng.choices(_ALPHABET, k=self._length))
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate

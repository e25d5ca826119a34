"""Reading a method's conditions object (``params[1]``) with a clear error for every bad value.

Each method says which keys it understands (``only``); a key it does not know is an ``Invalid params``
error rather than silently ignored, so a client's typo cannot widen a query.  Keys the 1.5 docs list
but the emulator does not model (``customs``, ``geoip``, ...) get their own message.
"""

from __future__ import annotations

from typing import Any

from .conditions import DayCondition, NumberCondition, TextCondition
from .errors import invalid_params

__all__ = ["Conditions"]


class Conditions:
    """The conditions object of one call; ``path`` names it in error details (``get_campaigns.name``)."""

    def __init__(self, raw: dict[str, Any], *, allow_matches: bool = False, path: str = "") -> None:
        self.raw = raw
        self.allow_matches = allow_matches
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def only(self, *known: str, unsupported: tuple[str, ...] = ()) -> Conditions:
        for key in self.raw:
            if key in unsupported:
                raise invalid_params(f"condition {self._name(key)!r} is not supported by this emulator")
            if key not in known:
                raise invalid_params(f"unknown condition {self._name(key[:50])!r}")
        return self

    def text(self, key: str) -> TextCondition | None:
        if key not in self.raw:
            return None
        return TextCondition.parse(self._name(key), self.raw[key], allow_matches=self.allow_matches)

    def address(self, key: str) -> TextCondition | None:
        """A text condition on an address, where an empty or blank ``EQUALS`` is ``Invalid params``.

        GetResponse does not document an empty ``EQUALS``.  Read literally it matches nothing, but a
        server could as well drop an empty condition and answer every contact; the emulator takes
        neither lenient reading and refuses it, so a client that would send one fails in tests.
        """
        raw = self.raw.get(key)
        if isinstance(raw, dict) and isinstance(raw.get("EQUALS"), str) and not raw["EQUALS"].strip():
            raise invalid_params(f"{self._name(key)}: EQUALS needs a non-empty address")
        return self.text(key)

    def days(self, key: str) -> DayCondition | None:
        return DayCondition.parse(self._name(key), self.raw[key]) if key in self.raw else None

    def number(self, key: str) -> NumberCondition | None:
        return NumberCondition.parse(self._name(key), self.raw[key]) if key in self.raw else None

    def id_list(self, key: str) -> list[str] | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid_params(f"{self._name(key)} must be an array of id strings")
        return value

    def nested(self, key: str) -> Conditions | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not isinstance(value, dict):
            raise invalid_params(f"{self._name(key)} must be an object of conditions")
        return Conditions(value, allow_matches=self.allow_matches, path=self._name(key))

    def string(self, key: str, *, choices: tuple[str, ...] | None = None) -> str | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not isinstance(value, str):
            raise invalid_params(f"{self._name(key)} must be a string")
        if choices is not None and value not in choices:
            raise invalid_params(f"{self._name(key)} must be one of: {', '.join(choices)}")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key)
        if value is None:
            raise invalid_params(f"{self._name(key)} is mandatory")
        return value

    def integer(self, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
        if key not in self.raw or self.raw[key] is None:
            return None
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_params(f"{self._name(key)} must be an integer")
        if value < minimum or (maximum is not None and value > maximum):
            limit = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise invalid_params(f"{self._name(key)} must be {limit}")
        return value

"""GetResponse's condition operators, parsed once and evaluated many times.

Every operator is written ``{"OPERATOR": value}`` and must be UPPERCASE.  Several operators in one
object are ANDed (documented for time operators; the emulator applies the same rule to text and
numeric ones, so ``{"CONTAINS": "a%", "NOT_CONTAINS": "%b"}`` narrows twice).

Text (case-insensitive; ``None`` fields, e.g. a null message name, never match any operator, as a SQL
``NULL`` would not):

- ``EQUALS`` / ``NOT_EQUALS`` compare literally: ``%`` and ``_`` are ordinary characters here.
- ``CONTAINS`` / ``NOT_CONTAINS`` are SQL ``LIKE``: ``%`` is any run of characters, ``_`` exactly one,
  and the pattern must match the WHOLE value (``"example"`` does not match ``a@example.com``;
  ``"%example%"`` does).  Matching never backtracks (``emulators.wildcards``): a pattern costs at
  most len(pattern) x len(value) steps.  There is no escape character (UNCONFIRMED; none is documented).
- ``MATCHES`` (a regular expression, searched) only when the emulator is told to accept it.

Time: ``FROM``, ``TO`` and ``AT`` take ``YYYY-MM-DD`` and compare calendar days in UTC, inclusively:
``{"FROM": "2024-01-01", "TO": "2024-01-31"}`` is all of January.  A malformed date or any other
operator is an ``Invalid params`` error.

Numeric: ``LESS``, ``LESS_OR_EQUALS``, ``EQUALS``, ``GREATER_OR_EQUALS``, ``GREATER`` with a JSON number
(or a numeric string, since the docs talk about the decimal separator); ``{"EQUALS": null}`` matches a
null value and only that.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from emulators.wildcards import LikePattern

from .errors import invalid_params

__all__ = ["DayCondition", "NumberCondition", "TextCondition", "like_pattern"]

_DAY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "LESS": operator.lt,
    "LESS_OR_EQUALS": operator.le,
    "EQUALS": operator.eq,
    "GREATER_OR_EQUALS": operator.ge,
    "GREATER": operator.gt,
}


def like_pattern(pattern: str) -> LikePattern:
    """Compile a LIKE pattern (``%``, ``_``) for matching casefolded text (no backtracking)."""
    return LikePattern(pattern.casefold())


def _operators(field: str, raw: Any, kind: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise invalid_params(f'{field} must be an object like {{"OPERATOR": value}} ({kind} operators)')
    return raw


def _unknown_operator(field: str, name: str, allowed: tuple[str, ...]) -> Exception:
    return invalid_params(
        f"{field}: unknown operator {name[:40]!r}; allowed: {', '.join(allowed)} (operators are UPPERCASE)"
    )


@dataclass(frozen=True, slots=True)
class TextCondition:
    """A parsed text condition; ``matches`` is True when every operator holds."""

    tests: tuple[Callable[[str], bool], ...]

    OPERATORS = ("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS")

    @classmethod
    def parse(cls, field: str, raw: Any, *, allow_matches: bool = False) -> TextCondition:
        allowed = (*cls.OPERATORS, "MATCHES") if allow_matches else cls.OPERATORS
        tests: list[Callable[[str], bool]] = []
        for name, value in _operators(field, raw, "text").items():
            if name not in allowed:
                raise _unknown_operator(field, name, allowed)
            if not isinstance(value, str):
                raise invalid_params(f"{field}: the value of {name} must be a string")
            tests.append(_text_test(field, name, value))
        return cls(tuple(tests))

    def matches(self, text: str | None) -> bool:
        if text is None:
            return False
        return all(test(text) for test in self.tests)


def _text_test(field: str, name: str, value: str) -> Callable[[str], bool]:
    if name == "EQUALS":
        folded = value.casefold()
        return lambda text: text.casefold() == folded
    if name == "NOT_EQUALS":
        folded = value.casefold()
        return lambda text: text.casefold() != folded
    if name == "MATCHES":
        try:
            regex = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise invalid_params(f"{field}: MATCHES needs a valid regular expression ({exc})") from None
        return lambda text: regex.search(text) is not None
    like = like_pattern(value)
    if name == "CONTAINS":
        return lambda text: like.matches(text.casefold())
    return lambda text: not like.matches(text.casefold())


@dataclass(frozen=True, slots=True)
class DayCondition:
    """A parsed time condition, reduced to an inclusive range of ISO days (``None`` = unbounded).

    ``starts``/``ends`` are the same range as UTC moments (``ends`` exclusive: the midnight after
    ``last_day``), so ``matches_moment`` compares a record's ``datetime`` without formatting it.
    """

    first_day: str | None
    last_day: str | None
    starts: datetime | None = None
    ends: datetime | None = None

    OPERATORS = ("FROM", "TO", "AT")

    @classmethod
    def parse(cls, field: str, raw: Any) -> DayCondition:
        first_day: str | None = None
        last_day: str | None = None
        for name, value in _operators(field, raw, "time").items():
            if name not in cls.OPERATORS:
                raise _unknown_operator(field, name, cls.OPERATORS)
            day = _parse_day(field, name, value)
            if name in ("FROM", "AT"):
                first_day = day if first_day is None else max(first_day, day)
            if name in ("TO", "AT"):
                last_day = day if last_day is None else min(last_day, day)
        return cls(first_day, last_day, _midnight(first_day, 0), _midnight(last_day, 1))

    def matches_moment(self, moment: datetime | None) -> bool:
        """``matches`` for the UTC day of ``moment``."""
        if moment is None:
            return False
        if self.starts is not None and moment < self.starts:
            return False
        return self.ends is None or moment < self.ends  # no ends: unbounded, or past 9999-12-31

    def matches(self, day: str | None) -> bool:
        """``day`` is an ISO ``YYYY-MM-DD`` string; ISO days order correctly as strings."""
        if day is None:
            return False
        if self.first_day is not None and day < self.first_day:
            return False
        return self.last_day is None or day <= self.last_day


def _midnight(day: str | None, days_later: int) -> datetime | None:
    """UTC midnight ``days_later`` days after the start of ``day``; None past the calendar's end."""
    if day is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(day) + timedelta(days=days_later), time(), UTC)
    except OverflowError:
        return None


def _parse_day(field: str, name: str, value: Any) -> str:
    if isinstance(value, str) and _DAY_SHAPE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    shown = value[:40] if isinstance(value, str) else type(value).__name__
    raise invalid_params(f"{field}: {name} needs a date as YYYY-MM-DD, got {shown!r}")


@dataclass(frozen=True, slots=True)
class NumberCondition:
    tests: tuple[tuple[Callable[[float, float], bool], float | None], ...]

    @classmethod
    def parse(cls, field: str, raw: Any) -> NumberCondition:
        allowed = tuple(_NUMERIC_OPERATORS)
        tests: list[tuple[Callable[[float, float], bool], float | None]] = []
        for name, value in _operators(field, raw, "numeric").items():
            if name not in _NUMERIC_OPERATORS:
                raise _unknown_operator(field, name, allowed)
            if value is None and name != "EQUALS":
                raise invalid_params(f"{field}: only EQUALS accepts null")
            tests.append((_NUMERIC_OPERATORS[name], None if value is None else _number(field, name, value)))
        return cls(tuple(tests))

    def matches(self, number: float | None) -> bool:
        for compare, wanted in self.tests:
            if wanted is None:
                if number is not None:
                    return False
            elif number is None or not compare(number, wanted):
                return False
        return True


def _number(field: str, name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise invalid_params(f"{field}: the value of {name} must be a number")
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is not None and math.isfinite(number):
        return number
    raise invalid_params(f"{field}: the value of {name} must be a number")

"""The conditions object of ``get_contacts_deleted``, built from typed parts.

GetResponse 1.5 takes every condition as ``params[1]`` of the call, in a fixed vocabulary: text
operators ``{"EQUALS": "a@b.c"}`` (UPPERCASE; the documentation shows one per object, and the adapter
sends one), time operators ``{"FROM": "2014-01-01", "TO": "2014-01-31"}`` (several ANDed, as
documented) with bare ``YYYY-MM-DD`` days, id lists next to nested
``get_*`` conditions (``campaigns`` / ``get_campaigns``, ORed by the server), and one ``reason``.

Building the object from dataclasses keeps malformed conditions out of the wire: an unknown operator,
two conditions with the same operator on one field (one JSON object cannot hold both) or a range that
ends before it starts is a ``ValueError`` here instead of an ``Invalid params`` round trip.  Keys with
nothing to say are left out, because an empty operator object is itself invalid at GetResponse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["TEXT_OPERATORS", "DayRange", "DeletedContactsQuery", "TextCondition"]

# MATCHES (regular expressions) was dropped from the 1.50 operator list but some servers still take it.
TEXT_OPERATORS = ("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "MATCHES")


@dataclass(frozen=True, slots=True)
class TextCondition:
    """``{operator: value}``; ``CONTAINS`` is a SQL ``LIKE`` (``%``, ``_``), not a substring search."""

    operator: str
    value: str

    def __post_init__(self) -> None:
        if self.operator not in TEXT_OPERATORS:
            raise ValueError(
                f"unknown text operator {self.operator!r}; use one of {', '.join(TEXT_OPERATORS)}"
            )
        if not isinstance(self.value, str):
            raise ValueError("a text condition compares with a string")

    def to_params(self) -> dict[str, str]:
        return {self.operator: self.value}


@dataclass(frozen=True, slots=True)
class DayRange:
    """Inclusive UTC calendar days; every bound given is ANDed by GetResponse."""

    from_day: date | None = None
    to_day: date | None = None
    at_day: date | None = None

    def __post_init__(self) -> None:
        if self.from_day and self.to_day and self.from_day > self.to_day:
            raise ValueError("the day range starts after it ends")

    @property
    def is_open(self) -> bool:
        return self.from_day is None and self.to_day is None and self.at_day is None

    def to_params(self) -> dict[str, str]:
        bounds = {"FROM": self.from_day, "TO": self.to_day, "AT": self.at_day}
        return {operator: day.isoformat() for operator, day in bounds.items() if day is not None}


def _text_object(conditions: tuple[TextCondition, ...], field: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for condition in conditions:
        if condition.operator in merged:
            raise ValueError(f"{field}: at most one condition per operator fits in one call")
        merged.update(condition.to_params())
    return merged


@dataclass(frozen=True, slots=True)
class DeletedContactsQuery:
    """The documented ``get_contacts_deleted`` conditions; empty means every deleted contact."""

    campaign_ids: tuple[str, ...] = ()
    campaign_name: TextCondition | None = None
    message_ids: tuple[str, ...] = ()
    message_name: TextCondition | None = None
    email: tuple[TextCondition, ...] = ()
    created_on: DayRange | None = None
    deleted_on: DayRange | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        _text_object(self.email, "email")  # fail at construction, not when the call is built
        if self.reason is not None and not self.reason:
            raise ValueError("reason must not be empty")

    def to_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.campaign_ids:
            params["campaigns"] = list(self.campaign_ids)
        if self.campaign_name is not None:
            params["get_campaigns"] = {"name": self.campaign_name.to_params()}
        if self.message_ids:
            params["messages"] = list(self.message_ids)
        if self.message_name is not None:
            params["get_messages"] = {"name": self.message_name.to_params()}
        if self.email:
            params["email"] = _text_object(self.email, "email")
        if self.reason is not None:
            params["reason"] = self.reason
        for key, days in (("created_on", self.created_on), ("deleted_on", self.deleted_on)):
            if days is not None and not days.is_open:
                params[key] = days.to_params()
        return params

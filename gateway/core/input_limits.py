"""Bounds on everything a caller sends, checked before any of it reaches a provider.

Every string a caller can pass (addresses, patterns, provider ids, global ids, cursors, list and
campaign ids, consent-override reasons, idempotency keys) has a maximum length, every list a maximum
size, and every calendar day a range.  The GraphQL layer checks each argument against these while it
translates it into the core model, so an oversized value is a ``BAD_USER_INPUT`` naming the field
(never echoing the value back) instead of, say, a URL too long for the HTTP client.

The values come from ``Settings`` (per application instance); the defaults here are the same as the
settings' defaults, for services built without settings (tests).

Why the day range: no contact is created or deleted before 1970 (both providers keep Unix times), and
an adapter turning an inclusive ``to`` day into an exclusive bound needs the next day to exist, so
the last day accepted is the calendar's last but one.  Adapters also saturate their own day
arithmetic, so a wider configured range cannot crash them.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass
from datetime import date

from gateway.errors import UserInputError

__all__ = ["InputLimits"]


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_email_length: int = 254
    """An address (RFC 5321 allows no longer path); also the longest by-address lookup."""
    max_pattern_length: int = 254
    """The value of a text condition (email, name, campaign or message name)."""
    max_id_length: int = 128
    """A provider's id: contact, list, campaign, message or bulk-operation id."""
    max_global_id_length: int = 256
    """A global id (base64 of the type name and a provider id)."""
    max_cursor_length: int = 256
    max_reason_length: int = 2_000
    min_reason_length: int = 10
    """A consent override's reason must say something: at least this many characters."""
    """A consent override's reason."""
    max_idempotency_key_length: int = 200
    max_list_items: int = 100
    """Conditions or ids in one list of a filter, and list ids of a restore."""
    max_emails_per_lookup: int = 100
    max_nodes_per_lookup: int = 200
    max_contacts_per_mutation: int = 1_000
    earliest_day: date = date(1970, 1, 1)
    latest_day: date = date(9999, 12, 30)

    def __post_init__(self) -> None:
        if self.earliest_day > self.latest_day:
            raise ValueError("the earliest day accepted is after the latest")

    # -- the checks (each raises UserInputError naming the field, never echoing the value) -----

    @staticmethod
    def check_text(value: str, limit: int, field: str, *, required: bool = False) -> str:
        if len(value) > limit:
            raise UserInputError(f"{field}: {len(value):,} characters, more than the {limit:,} accepted")
        if required and not value:
            raise UserInputError(f"{field} must not be empty")
        return value

    @staticmethod
    def check_count(items: Sized, limit: int, field: str, what: str = "items") -> None:
        if len(items) > limit:
            raise UserInputError(f"{field}: at most {limit:,} {what} per call")

    def check_day(self, day: date, field: str) -> date:
        if not self.earliest_day <= day <= self.latest_day:
            raise UserInputError(
                f"{field}: {day.isoformat()} is outside the days accepted "
                f"({self.earliest_day.isoformat()} to {self.latest_day.isoformat()})"
            )
        return day

    def email(self, value: str, field: str) -> str:
        return self.check_text(value, self.max_email_length, field, required=True)

    def pattern(self, value: str, field: str) -> str:
        return self.check_text(value, self.max_pattern_length, field)

    def provider_id(self, value: str, field: str) -> str:
        return self.check_text(value, self.max_id_length, field, required=True)

    def global_id(self, value: str, field: str) -> str:
        return self.check_text(value, self.max_global_id_length, field, required=True)

    def cursor(self, value: str, field: str) -> str:
        return self.check_text(value, self.max_cursor_length, field)

    def provider_ids(self, values: Sequence[str], field: str) -> tuple[str, ...]:
        self.check_count(values, self.max_list_items, field, "ids")
        return tuple(self.provider_id(str(value), f"{field}[{index}]") for index, value in enumerate(values))

"""The deleted-contacts filter, with GetResponse's condition semantics, evaluable in the gateway.

Semantics (the same whichever side evaluates them):

- Email text conditions are case-insensitive.  ``EQUALS`` / ``NOT_EQUALS`` compare literally;
  ``CONTAINS`` / ``NOT_CONTAINS`` are SQL ``LIKE`` patterns (``%`` any run, ``_`` one character), so
  ``CONTAINS "shop"`` matches only the address ``shop`` and ``CONTAINS "%shop%"`` matches substrings
  (matched by ``gateway.core.wildcards``, which cannot backtrack: no pattern holds the loop).
  Several conditions are ANDed.
- Name text conditions work the same way on the contact's name (Constant Contact: first and last
  name joined by a space; a contact without a name has the empty name).  No provider can evaluate
  them, so they are always applied in the gateway.
- Day ranges are inclusive UTC calendar days: ``from`` <= day <= ``to``; ``on`` means exactly that day.
- ``reasons`` is a set (OR).  A provider that records no reason has ``UNKNOWN``, so it is asked only
  when ``UNKNOWN`` is among the reasons, and a provider that records reasons is not asked for
  ``UNKNOWN`` alone.
- Campaign and message conditions exist only at GetResponse; a filter that has any of them matches no
  Constant Contact contact.  Ids and the name condition are ORed, as at GetResponse.
- ``providers`` limits which providers are asked (empty means all configured).

Each adapter pushes down what its provider evaluates exactly and leaves the rest to :meth:`matches`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

import orjson

from .model import DeletedContact, Provider, ReasonFilter
from .wildcards import LikePattern, StepCounter

__all__ = ["DayRange", "DeletedContactFilter", "TextCondition", "TextOperator", "utc_day"]


class TextOperator(enum.Enum):
    EQUALS = "EQUALS"
    NOT_EQUALS = "NOT_EQUALS"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"

    @property
    def negated(self) -> bool:
        return self in (TextOperator.NOT_EQUALS, TextOperator.NOT_CONTAINS)


@dataclass(frozen=True)
class TextCondition:
    operator: TextOperator
    value: str

    @cached_property
    def _pattern(self) -> LikePattern:
        # Case-insensitive as GetResponse is: pattern and text are both casefolded, so a letter whose
        # folding is several characters (German sharp s, Turkish dotted capital I) compares as its
        # folding does, not character by character.
        folded = self.value.casefold()
        if self.operator in (TextOperator.CONTAINS, TextOperator.NOT_CONTAINS):
            return LikePattern(folded)
        return LikePattern.literal(folded)

    def matches(self, text: str, counter: StepCounter | None = None) -> bool:
        found = self._pattern.matches(text.casefold(), counter)
        return not found if self.operator.negated else found

    @property
    def is_plain_equality(self) -> bool:
        return self.operator is TextOperator.EQUALS


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment`` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None or moment.tzinfo is UTC:
        return moment.date()
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class DayRange:
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError("the range starts after it ends")

    @classmethod
    def on(cls, day: date) -> DayRange:
        return cls(day, day)

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    def contains(self, day: date | None) -> bool:
        if day is None:
            return self.is_open
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class DeletedContactFilter:
    email: tuple[TextCondition, ...] = ()
    name: tuple[TextCondition, ...] = ()
    reasons: frozenset[ReasonFilter] = frozenset()
    created: DayRange = field(default_factory=DayRange)
    deleted: DayRange = field(default_factory=DayRange)
    campaign_ids: tuple[str, ...] = ()
    campaign_name: TextCondition | None = None
    message_ids: tuple[str, ...] = ()
    message_name: TextCondition | None = None
    providers: frozenset[Provider] = frozenset()

    @property
    def targets_getresponse_only(self) -> bool:
        """Campaign/message conditions exist only at GetResponse."""
        return bool(self.campaign_ids or self.campaign_name or self.message_ids or self.message_name)

    def asks(self, provider: Provider) -> bool:
        """Whether ``provider`` can hold any match (if not, it is not even called)."""
        if self.providers and provider not in self.providers:
            return False
        if provider is Provider.CONSTANT_CONTACT and self.targets_getresponse_only:
            return False
        if self.reasons:
            unknown_wanted = ReasonFilter.UNKNOWN in self.reasons
            return len(self.reasons) > unknown_wanted if provider.records_reasons else unknown_wanted
        return True

    @property
    def has_specific_reasons(self) -> bool:
        return any(reason.is_specific for reason in self.reasons)

    def matches_reason(self, contact: DeletedContact) -> bool:
        """General-reason check; a specific sub-reason can only be checked by GetResponse itself."""
        if not self.reasons:
            return True
        return any(
            r.general is contact.reason if r.is_specific else r.value == contact.reason.value
            for r in self.reasons
        )

    @property
    def checks_contacts(self) -> bool:
        """Whether :meth:`matches` can be false for a contact of a provider this filter asks."""
        return bool(
            self.email or self.name or self.reasons or not self.created.is_open or not self.deleted.is_open
        )

    def matches(self, contact: DeletedContact) -> bool:
        """Every condition the gateway can evaluate itself (everything except campaign/message ids,
        names and specific sub-reasons, which adapters always push down to GetResponse)."""
        if not self.asks(contact.provider):
            return False
        if not all(condition.matches(contact.email) for condition in self.email):
            return False
        if not all(condition.matches(contact.name or "") for condition in self.name):
            return False
        if not self.created.contains(utc_day(contact.created_at) if contact.created_at else None):
            return False
        if not self.deleted.contains(contact.deleted_on):
            return False
        return self.matches_reason(contact)

    def cache_key(self) -> str:
        """A stable, unambiguous text form, so cursors can tell which query they belong to."""

        def text(conditions: Iterable[TextCondition | None]) -> list[list[str]]:
            return [[c.operator.value, c.value] for c in conditions if c is not None]

        return orjson.dumps(
            [
                text(self.email),
                text(self.name),
                sorted(r.value for r in self.reasons),
                [str(self.created.start), str(self.created.end)],
                [str(self.deleted.start), str(self.deleted.end)],
                list(self.campaign_ids),
                text([self.campaign_name]),
                list(self.message_ids),
                text([self.message_name]),
                sorted(p.value for p in self.providers),
            ]
        ).decode()

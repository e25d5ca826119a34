"""The provider-neutral model of a deleted contact: what the GraphQL layer knows.

A provider adapter turns its own records into :class:`DeletedContact`; the original record rides
along in ``source`` (for provider-specific fields) and ``raw`` (the provider's JSON, unchanged).

:class:`DeletedContact` and the provider records behind it are treated as immutable but are not
``frozen`` dataclasses: a frozen dataclass sets each field through ``object.__setattr__``, a Python-level
call per field, and a page builds three records for each of its contacts.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar

from gateway.errors import GatewayError

from .lazy import parsed

T = TypeVar("T")

__all__ = [
    "GENERAL_REASONS",
    "ContactKey",
    "DeletedContact",
    "DeletionReason",
    "ListedContact",
    "OrderKey",
    "Provider",
    "ReasonFilter",
]


class Provider(enum.Enum):
    CONSTANT_CONTACT = "constant_contact"
    GETRESPONSE = "getresponse"

    # Enum hashes a member by its name in a Python-level method; members are singletons compared by
    # identity, so identity hashing is equivalent, and these enums key dicts on per-contact paths.
    __hash__ = object.__hash__

    @property
    def records_reasons(self) -> bool:
        """Whether the provider records why a contact was deleted (Constant Contact does not)."""
        return self is Provider.GETRESPONSE


class DeletionReason(enum.Enum):
    """Why a contact was deleted, normalised across providers (GetResponse's general reasons).

    ``UNKNOWN`` is used where the provider records no reason (every Constant Contact deletion).
    """

    UNSUBSCRIBE = "unsubscribe"
    USER = "user"
    SUPPORT = "support"
    AUTOMATION = "automation"
    COMPLAINT = "complaint"
    BLACKLISTED = "blacklisted"
    API = "api"
    BOUNCE = "bounce"
    OTHER = "other"
    UNKNOWN = "unknown"

    __hash__ = object.__hash__  # as Provider's

    @classmethod
    def from_provider(cls, value: str | None) -> DeletionReason:
        if not value:
            return cls.UNKNOWN
        general = value.split("::", 1)[0].lower()
        # A plain dict lookup: Enum's own value lookup costs a slow __new__ call per record.
        return _REASONS_BY_VALUE.get(general, cls.OTHER)


_REASONS_BY_VALUE = {reason.value: reason for reason in DeletionReason}
GENERAL_REASONS = frozenset(DeletionReason) - {DeletionReason.UNKNOWN}


class ReasonFilter(enum.Enum):
    """A reason to filter on: a general reason, or one of GetResponse's specific sub-reasons.

    Sub-reasons can only be evaluated by GetResponse (its results show the general reason only), so a
    sub-reason filter is always pushed down and never matches a provider that records no reasons.
    """

    UNSUBSCRIBE = "unsubscribe"
    USER = "user"
    SUPPORT = "support"
    AUTOMATION = "automation"
    AUTOMATION_REMOVE_ON_REMOVE = "automation::remove-on-remove"
    AUTOMATION_REMOVE_ON_SALE = "automation::remove-on-sale"
    AUTOMATION_REMOVE_ON_SUBSCRIBE = "automation::remove-on-subscribe"
    COMPLAINT = "complaint"
    BLACKLISTED = "blacklisted"
    API = "api"
    BOUNCE = "bounce"
    BOUNCE_MAILBOX_FULL = "bounce::mailbox_full"
    BOUNCE_OTHER_HARD = "bounce::other_hard"
    BOUNCE_OTHER_SOFT = "bounce::other_soft"
    BOUNCE_USER_UNKNOWN = "bounce::user_unknown"
    BOUNCE_USER_RECYCLED = "bounce::user_recycled"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def is_specific(self) -> bool:
        return "::" in self.value

    @property
    def general(self) -> DeletionReason:
        return DeletionReason(self.value.split("::", 1)[0])


@dataclass(frozen=True, slots=True)
class ContactKey:
    """Identifies one deleted-contact record across the gateway: provider plus the provider's id."""

    provider: Provider
    contact_id: str


@dataclass(slots=True)
class DeletedContact:
    provider: Provider
    contact_id: str
    email: str
    name: str | None
    created_at: datetime | None
    deleted_on: date
    deleted_at: datetime | None
    reason: DeletionReason
    restore_blocked_by: str | None
    """Why a restore needs an explicit consent override (None when it does not)."""
    raw: Mapping[str, Any]
    source: Any = field(compare=False, repr=False)
    """The provider adapter's own record, for provider-specific fields."""

    @property
    def key(self) -> ContactKey:
        return ContactKey(self.provider, self.contact_id)

    @property
    def record(self) -> Any:
        """``source``, parsed (an adapter may leave it to be parsed when first read: ``core.lazy``)."""
        return parsed(self.source)

    @property
    def restorable(self) -> bool:
        return self.restore_blocked_by is None


OrderKey: TypeAlias = tuple[int, float, str, str]
"""A contact's place in the merge order (``ordering.order_key``): ascending keys, most recent first."""


class ListedContact:
    """One deleted contact as a listing holds it: its merge-order key and snapshot entry up front,
    the :class:`DeletedContact` mapped from the entry the first time ``contact`` is read.

    A first page orders every deleted contact of every provider but shows only a page of them, so the
    adapters check each record and compute its order key (cheap), and leave building the full
    contact to the few that are shown or filtered on.  ``entry`` is the adapter's JSON-able snapshot
    entry (``DeletedContactsPort.snapshot_entry``); ``map_entry`` turns it into the contact.
    """

    __slots__ = ("_contact", "_map_entry", "_presented", "entry", "order")

    # ``_contact`` and ``_presented`` are set when first made (a listing builds hundreds of these per
    # first page and reads them for a page's worth): until then reading them raises AttributeError.
    _contact: DeletedContact
    _presented: tuple[Callable[[DeletedContact], Any], Any]

    def __init__(self, order: OrderKey, entry: Any, map_entry: Callable[[Any], DeletedContact]) -> None:
        self.order = order
        self.entry = entry
        self._map_entry: Callable[[Any], DeletedContact] | None = map_entry

    @classmethod
    def of_contact(cls, order: OrderKey, entry: Any, contact: DeletedContact) -> ListedContact:
        """A listed contact already mapped (adapters that build whole contacts anyway)."""
        listed = cls(order, entry, _unused_map)
        listed._map_entry, listed._contact = None, contact
        return listed

    @property
    def provider(self) -> Provider:
        return _PROVIDER_BY_VALUE[self.order[2]]

    @property
    def provider_value(self) -> str:
        return self.order[2]

    @property
    def contact_id(self) -> str:
        return self.order[3]

    @property
    def contact(self) -> DeletedContact:
        if self._map_entry is not None:
            self._contact = self._map_entry(self.entry)
            self._map_entry = None
        return self._contact

    def presented(self, present: Callable[[DeletedContact], T]) -> T:
        """``present(self.contact)``, made once (a listing may have prepared it already)."""
        made = getattr(self, "_presented", None)
        if made is not None and made[0] is present:
            return made[1]  # type: ignore[no-any-return]  # made by this same ``present``
        result = present(self.contact)
        self._presented = (present, result)
        return result

    def prepare(self, present: Callable[[DeletedContact], Any]) -> None:
        """Make :meth:`presented` now, ahead of need.  A fault (a record that does not parse) is left
        to be raised where the contact is read, which tries again."""
        with contextlib.suppress(GatewayError):
            self.presented(present)

    def __repr__(self) -> str:
        return f"ListedContact({self.order[2]}:{self.order[3]})"


_PROVIDER_BY_VALUE = {provider.value: provider for provider in Provider}


def _unused_map(entry: Any) -> DeletedContact:  # pragma: no cover - replaced before any read
    raise AssertionError("a listed contact built of its contact never maps its entry")

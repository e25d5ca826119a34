"""Typed records of the GetResponse 1.5 results the gateway reads, parsed defensively.

GetResponse answers with objects keyed by id (``{"CONTACT_ID": {...}, ...}``), unordered, with
timestamps as ``"YYYY-MM-DD HH:MM:SS"`` (no zone is documented; they are read as UTC, as v3 and the
emulator use) and ``null`` where there is no value.  The parsers accept every documented variant and
two undocumented but harmless ones:

- an empty result written ``[]`` instead of ``{}`` (what a PHP server's ``json_encode`` of an empty
  hash produces);
- numeric fields as digit strings (``cycle_day`` was a string before 1.8.8).

Anything else is :class:`~gateway.providers.errors.InvalidUpstreamResponse`, never a ``KeyError`` or
``TypeError`` deep inside the gateway.  Each record keeps the provider's entry unchanged in ``raw``
(snapshots and the GraphQL ``raw`` field need GetResponse's own words).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

import msgspec

from gateway.core.model import Provider
from gateway.providers.errors import InvalidUpstreamResponse

__all__ = [
    "PROVIDER",
    "AccountCallbacks",
    "Campaign",
    "Contact",
    "DeletedContact",
    "Memberships",
    "Message",
    "deleted_listing_fields",
    "deleted_summary_fields",
    "id_map",
    "memberships",
    "parse_timestamp",
    "read_memberships",
]

PROVIDER = Provider.GETRESPONSE


def _invalid(what: str) -> InvalidUpstreamResponse:
    return InvalidUpstreamResponse(f"unexpected result shape: {what}", provider=PROVIDER)


def id_map(result: Any, what: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``(id, entry)`` pairs of a result keyed by id, every entry an object."""
    if type(result) is dict and "" not in result:
        items = list(result.items())
        # The common case, checked without isinstance(..., Mapping): an ABC check per entry is slow.
        if all(type(key) is str and type(entry) is dict for key, entry in items):
            return items
    if isinstance(result, list) and not result:
        return []
    if not isinstance(result, Mapping):
        raise _invalid(f"{what} is not an object keyed by id")
    entries = []
    for key, entry in result.items():
        if not isinstance(key, str) or not key:
            raise _invalid(f"{what} has an empty id")
        if not isinstance(entry, Mapping):
            raise _invalid(f"{what}[{key[:40]!r}] is not an object")
        entries.append((key, entry))
    return entries


class _Fields:
    """Typed access to one entry; every complaint names the entry (``kind`` and ``ident``) and the field.

    The entry's name is only formatted when something is wrong: a listing parses thousands of entries.
    """

    __slots__ = ("entry", "ident", "kind")

    def __init__(self, entry: Any, kind: str, ident: str = "") -> None:
        self.kind = kind
        self.ident = ident
        if type(entry) is not dict and not isinstance(entry, Mapping):  # the ABC check is the slow one
            raise _invalid(f"{self.what} is not an object")
        self.entry: Mapping[str, Any] = entry

    @property
    def what(self) -> str:
        return f"{self.kind} {self.ident[:40]!r}" if self.ident else self.kind

    def _complain(self, key: str, expected: str) -> InvalidUpstreamResponse:
        return _invalid(f"{self.what}.{key} is missing or not {expected}")

    def text(self, key: str) -> str:
        value = self.entry.get(key)
        if not isinstance(value, str):
            raise self._complain(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.entry.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._complain(key, "a string or null")

    def optional_int(self, key: str) -> int | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise self._complain(key, "a number or null")

    def timestamp(self, key: str) -> datetime:
        moment = self.optional_timestamp(key)
        if moment is None:
            raise self._complain(key, "a timestamp")
        return moment

    def optional_timestamp(self, key: str) -> datetime | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._complain(key, "a timestamp")
        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError):
            raise self._complain(key, '"YYYY-MM-DD HH:MM:SS"') from None

    def yes_no(self, key: str) -> bool:
        value = self.entry.get(key)
        if value in ("yes", True):
            return True
        if value in ("no", False, None):
            return False
        raise self._complain(key, '"yes" or "no"')


def parse_timestamp(value: str) -> datetime:
    """``"YYYY-MM-DD HH:MM:SS"`` (taken as UTC), or any ISO 8601 form; always an aware UTC datetime."""
    if len(value) == 19:
        # GetResponse's own form.  Parsing it with the offset appended makes the aware datetime in one
        # C call, where datetime.replace(tzinfo=...) would build a second object, and listings parse
        # two timestamps of every deleted contact.
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass  # some other 19-character form: the general path below decides
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _KeyedById:
    """Records that GetResponse returns as one object keyed by their ids (``{ID: {...}, ...}``)."""

    __slots__ = ()
    _RESULT: ClassVar[str]

    @classmethod
    def from_entry(cls, key: str, raw: Any) -> Self:
        raise NotImplementedError

    @classmethod
    def parse_map(cls, result: Any) -> list[Self]:
        return [cls.from_entry(key, entry) for key, entry in id_map(result, cls._RESULT)]


@dataclass(slots=True)
class DeletedContact(_KeyedById):
    """One ``get_contacts_deleted`` entry.  ``reason`` is the general reason, as GetResponse returns it."""

    _RESULT: ClassVar[str] = "get_contacts_deleted result"

    contact_id: str
    email: str
    name: str | None
    campaign_id: str
    message_id: str | None
    origin: str | None
    ip: str | None
    cycle_day: int | None
    reason: str
    created_on: datetime
    deleted_on: datetime
    raw: dict[str, Any] = field(hash=False, repr=False)

    @classmethod
    def from_entry(cls, contact_id: str, raw: Any) -> Self:
        common = cls.from_common_entry(contact_id, raw)
        if common is not None:
            return common
        if not isinstance(contact_id, str) or not contact_id:
            raise _invalid("a deleted contact has no id")
        fields = _Fields(raw, "deleted contact", contact_id)
        return cls(
            contact_id=contact_id,
            email=fields.text("email"),
            name=fields.optional_text("name"),
            campaign_id=fields.text("campaign"),
            message_id=fields.optional_text("message"),
            origin=fields.optional_text("origin"),
            ip=fields.optional_text("ip"),
            cycle_day=fields.optional_int("cycle_day"),
            reason=fields.text("reason"),
            created_on=fields.timestamp("created_on"),
            deleted_on=fields.timestamp("deleted_on"),
            raw=dict(fields.entry),
        )

    @classmethod
    def from_common_entry(cls, contact_id: Any, raw: Any) -> Self | None:
        """The entry if it has the common shape, read in one pass; None when ``from_entry`` must
        look closer (it then accepts the other variants or names the fault)."""
        if type(raw) is not dict or type(contact_id) is not str or not contact_id:
            return None
        get = raw.get
        message, origin, ip, cycle_day = get("message"), get("origin"), get("ip"), get("cycle_day")
        if not (
            (message is None or type(message) is str)
            and (origin is None or type(origin) is str)
            and (ip is None or type(ip) is str)
            and (cycle_day is None or type(cycle_day) is int)
        ):
            return None
        # Checked in the field-by-field parse's order, so a fault is named as it would name it.
        email, name, campaign_id, reason, created_on, deleted_on = deleted_summary_fields(contact_id, raw)
        return cls(
            contact_id=contact_id,
            email=email,
            name=name,
            campaign_id=campaign_id,
            message_id=message,
            origin=origin,
            ip=ip,
            cycle_day=cycle_day,
            reason=reason,
            created_on=created_on,
            deleted_on=deleted_on,
            raw=dict(raw),
        )


def deleted_listing_fields(contact_id: str, raw: Any) -> tuple[str, str, float]:
    """``(email, campaign id, deleted_on as POSIX seconds)`` of a ``get_contacts_deleted`` entry,
    checked: what a listing reads of every deletion (to drop superseded ones and to order them).

    The rest of the entry is checked when the contact is read (:func:`deleted_summary_fields`, then
    :class:`DeletedContact`).  The common shape is tested in one expression; anything else goes
    through the field-by-field parse, which accepts the other timestamp forms or names the fault.
    """
    if type(raw) is dict:
        get = raw.get
        email, campaign, deleted_on = get("email"), get("campaign"), get("deleted_on")
        if type(email) is str and type(campaign) is str and type(deleted_on) is str and len(deleted_on) == 19:
            try:  # what parse_timestamp does with GetResponse's own form
                return email, campaign, datetime.fromisoformat(deleted_on + "+00:00").timestamp()
            except ValueError:
                pass
    fields = _Fields(raw, "deleted contact", contact_id)
    return fields.text("email"), fields.text("campaign"), fields.timestamp("deleted_on").timestamp()


_SummaryFields = tuple[str, str | None, str, str, datetime, datetime]


def deleted_summary_fields(contact_id: Any, raw: Any) -> _SummaryFields:
    """``(email, name, campaign id, reason, created_on, deleted_on)`` of a ``get_contacts_deleted``
    entry, checked: the fields the provider-neutral model needs, for an entry that is not parsed whole
    (``mapping.from_listing_entry``).  The common case is tested in one expression; only an entry that
    fails it goes through the field-by-field parse, which names what is wrong.
    """
    if isinstance(contact_id, str) and contact_id and isinstance(raw, dict):
        get = raw.get
        email, name, campaign, reason = get("email"), get("name"), get("campaign"), get("reason")
        created_on, deleted_on = get("created_on"), get("deleted_on")
        if (
            type(email) is str
            and (name is None or type(name) is str)
            and type(campaign) is str
            and type(reason) is str
            and type(created_on) is str
            and type(deleted_on) is str
        ):
            try:
                return email, name, campaign, reason, parse_timestamp(created_on), parse_timestamp(deleted_on)
            except (ValueError, OverflowError):
                pass
    return _checked_summary_fields(contact_id, raw)


def _checked_summary_fields(contact_id: Any, raw: Any) -> _SummaryFields:
    if not isinstance(contact_id, str) or not contact_id:
        raise _invalid("a deleted contact has no id")
    fields = _Fields(raw, "deleted contact", contact_id)
    return (
        fields.text("email"),
        fields.optional_text("name"),
        fields.text("campaign"),
        fields.text("reason"),
        fields.timestamp("created_on"),
        fields.timestamp("deleted_on"),
    )


@dataclass(frozen=True, slots=True)
class Contact(_KeyedById):
    """One active contact (``get_contacts`` / ``get_contact``): one address in one campaign."""

    _RESULT: ClassVar[str] = "get_contacts result"

    contact_id: str
    email: str
    name: str | None
    campaign_id: str
    origin: str | None
    ip: str | None
    cycle_day: int | None
    created_on: datetime
    changed_on: datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)

    @classmethod
    def from_entry(cls, contact_id: str, raw: Any) -> Self:
        fields = _Fields(raw, "contact", contact_id)
        return cls(
            contact_id=contact_id,
            email=fields.text("email"),
            name=fields.optional_text("name"),
            campaign_id=fields.text("campaign"),
            origin=fields.optional_text("origin"),
            ip=fields.optional_text("ip"),
            cycle_day=fields.optional_int("cycle_day"),
            created_on=fields.timestamp("created_on"),
            changed_on=fields.optional_timestamp("changed_on"),
            raw=dict(fields.entry),
        )


class Memberships(frozenset[tuple[str, str]]):
    """``(lower-cased email, campaign id)`` of every contact of a ``get_contacts`` result."""


def memberships(result: Any) -> Memberships:
    """``(lower-cased email, campaign id)`` of every contact in a ``get_contacts`` result (or the
    result itself, when :func:`read_memberships` already made them of its JSON).

    The adapter's superseded-deletion check needs only these two fields of every active contact (tens
    of thousands in a large account), so no :class:`Contact` records are built for it.
    """
    if type(result) is Memberships:
        return result
    if type(result) is dict:
        # The common case in one pass; anything odd is found again below, with its id.
        try:
            pairs = Memberships((entry["email"].lower(), entry["campaign"]) for entry in result.values())
        except (KeyError, TypeError, AttributeError):
            pass
        else:
            if all(
                type(email) is str and email and type(campaign) is str and campaign
                for email, campaign in pairs
            ):
                return pairs
    found: set[tuple[str, str]] = set()
    for contact_id, entry in id_map(result, "get_contacts result"):
        email, campaign = entry.get("email"), entry.get("campaign")
        if not isinstance(email, str) or not isinstance(campaign, str) or not email or not campaign:
            raise _invalid(f"contact {contact_id[:40]!r} has no email or campaign")
        found.add((email.lower(), campaign))
    return Memberships(found)


class _Membership(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=1)]
    campaign: Annotated[str, msgspec.Meta(min_length=1)]


_MEMBERSHIPS = msgspec.json.Decoder(dict[str, _Membership])


def read_memberships(raw: bytes | memoryview) -> Memberships:
    """:func:`memberships` of a ``get_contacts`` result's JSON, decoding only email and campaign.

    The listing batch's answer is mostly active contacts, of which the gateway needs two fields; a
    typed decode in C skips the rest instead of building a dict of every contact.  Raises (anything)
    for any result it does not read exactly as :func:`memberships` would (another shape, an empty id,
    a missing or empty field), so that the caller decodes it as plain JSON and ``memberships``
    accepts it or names the fault.
    """
    entries = _MEMBERSHIPS.decode(raw)
    if "" in entries:
        raise ValueError("an empty id")
    return Memberships((entry.email.lower(), entry.campaign) for entry in entries.values())


@dataclass(frozen=True, slots=True)
class Campaign(_KeyedById):
    """A campaign (GetResponse's list of contacts); names are unique per account."""

    _RESULT: ClassVar[str] = "campaigns result"

    campaign_id: str
    name: str
    description: str | None
    is_default: bool
    optin: str | None
    from_name: str | None
    from_email: str | None
    reply_to_email: str | None
    created_on: datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)

    @classmethod
    def from_entry(cls, campaign_id: str, raw: Any) -> Self:
        fields = _Fields(raw, "campaign", campaign_id)
        return cls(
            campaign_id=campaign_id,
            name=fields.text("name"),
            description=fields.optional_text("description"),
            is_default=fields.yes_no("is_default"),
            optin=fields.optional_text("optin"),
            from_name=fields.optional_text("from_name"),
            from_email=fields.optional_text("from_email"),
            reply_to_email=fields.optional_text("reply_to_email"),
            created_on=fields.optional_timestamp("created_on"),
            raw=dict(fields.entry),
        )


@dataclass(frozen=True, slots=True)
class Message(_KeyedById):
    """A message of a campaign (newsletter, autoresponder, A/B test, draft)."""

    _RESULT: ClassVar[str] = "messages result"

    message_id: str
    campaign_id: str
    type: str
    subject: str | None
    name: str | None
    created_on: datetime | None
    send_on: datetime | None
    raw: dict[str, Any] = field(hash=False, repr=False)

    @classmethod
    def from_entry(cls, message_id: str, raw: Any) -> Self:
        fields = _Fields(raw, "message", message_id)
        return cls(
            message_id=message_id,
            campaign_id=fields.text("campaign"),
            type=fields.text("type"),
            subject=fields.optional_text("subject"),
            name=fields.optional_text("name"),
            created_on=fields.optional_timestamp("created_on"),
            send_on=fields.optional_timestamp("send_on"),
            raw=dict(fields.entry),
        )


@dataclass(frozen=True, slots=True)
class AccountCallbacks:
    """Where GetResponse calls back and for which actions (one configuration per account)."""

    uri: str
    actions: tuple[str, ...]

    @classmethod
    def parse(cls, result: Any) -> Self | None:
        """``None`` when nothing is configured (an empty result)."""
        if isinstance(result, list | Mapping) and not result:
            return None
        fields = _Fields(result, "account callbacks")
        actions = fields.entry.get("actions")
        if not isinstance(actions, list) or not all(isinstance(action, str) for action in actions):
            raise _invalid("account callbacks.actions is missing or not a list of strings")
        return cls(uri=fields.text("uri"), actions=tuple(actions))

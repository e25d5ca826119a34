"""The records a Constant Contact account holds, the documented vocabulary, and their JSON.

A contact is never removed: DELETE only sets ``deleted_on`` (shown as the date-only ``deleted_at``) and
clears its list memberships.  ``seq`` is the contact's place in creation order; it never changes, which
is what keeps cursor paging exact while contacts are deleted and restored between pages.

Timestamps are UTC ``datetime`` objects inside the emulator.  On the wire the contact's own
``created_at``/``updated_at`` (and opt-in/opt-out dates) use the ``2016-01-23T13:48:44.108Z`` form and
the ``email_address`` timestamps the ``2016-03-03T10:53:04-05:00`` form, as in CC's own examples, so
clients meet both.  A field without a value is left out of the JSON rather than sent as ``null``:
the Swagger types are plain strings and integers, and CC's examples omit absent fields.

Each contact caches its core JSON (``core_cache``) and its serialized forms per ``include``
(``fragments``), made when a read first needs them; the store clears both on every change, so a
500-contact page read again is mostly a join of cached bytes, and seeding a large account pays for
no JSON at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson

__all__ = [
    "CATEGORIES",
    "CONFIRM_STATUSES",
    "CONTACT_STATUSES",
    "INCLUDES",
    "PERMISSIONS",
    "SOURCES",
    "Contact",
    "ContactList",
    "EmailAddress",
    "category_of",
    "contact_fragment",
    "contact_json",
    "eastern_timestamp",
    "utc_timestamp",
]

PERMISSIONS = ("explicit", "implicit", "not_set", "pending_confirmation", "temp_hold", "unsubscribed")
CONFIRM_STATUSES = ("pending", "confirmed", "off")
SOURCES = ("Contact", "Account")
INCLUDES = ("custom_fields", "list_memberships", "phone_numbers", "street_addresses", "taggings", "notes")
CONTACT_STATUSES = (
    "all",
    "active",
    "deleted",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
)
# Every contact is in exactly one category; ``status=all`` means all of them.
CATEGORIES = ("active", "deleted", "not_set", "pending_confirmation", "temp_hold", "unsubscribed")
_MAILABLE = frozenset({"explicit", "implicit"})  # status=active: UNCONFIRMED which permissions count
_EASTERN = timezone(timedelta(hours=-5))


def utc_timestamp(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    # isoformat, not strftime: the same text (for years 1000 on) several times faster.
    return f"{utc.replace(tzinfo=None).isoformat(timespec='milliseconds')}Z"


def eastern_timestamp(moment: datetime) -> str:
    return moment.astimezone(_EASTERN).isoformat(timespec="seconds")


@dataclass(slots=True, eq=False)
class EmailAddress:
    address: str
    permission_to_send: str
    created_at: datetime
    updated_at: datetime
    confirm_status: str = "off"
    opt_in_source: str | None = None
    opt_in_date: datetime | None = None
    opt_out_source: str | None = None
    opt_out_date: datetime | None = None
    opt_out_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "address": self.address,
            "permission_to_send": self.permission_to_send,
            "created_at": eastern_timestamp(self.created_at),
            "updated_at": eastern_timestamp(self.updated_at),
        }
        if self.opt_in_source is not None:
            payload["opt_in_source"] = self.opt_in_source
        if self.opt_in_date is not None:
            payload["opt_in_date"] = utc_timestamp(self.opt_in_date)
        if self.opt_out_source is not None:
            payload["opt_out_source"] = self.opt_out_source
        if self.opt_out_date is not None:
            payload["opt_out_date"] = utc_timestamp(self.opt_out_date)
        if self.opt_out_reason is not None:
            payload["opt_out_reason"] = self.opt_out_reason
        payload["confirm_status"] = self.confirm_status
        return payload


@dataclass(slots=True, eq=False)
class Contact:
    contact_id: str
    seq: int
    email: EmailAddress | None
    create_source: str
    update_source: str
    created_at: datetime
    updated_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    birthday_month: int | None = None
    birthday_day: int | None = None
    anniversary: str | None = None
    deleted_on: date | None = None
    # Subresources are replaced, never changed in place: a contact without one shares the empty tuple
    # (a million contacts would otherwise hold six million empty lists).
    list_memberships: Sequence[str] = ()
    custom_fields: Sequence[dict[str, Any]] = ()
    phone_numbers: Sequence[dict[str, Any]] = ()
    street_addresses: Sequence[dict[str, Any]] = ()
    taggings: Sequence[str] = ()
    notes: Sequence[dict[str, Any]] = ()
    category: str = ""
    core_cache: dict[str, Any] | None = None
    fragments: dict[tuple[str, ...], orjson.Fragment] | None = None  # made on the first read
    updated_key: int | None = None  # the ``updated_at`` the store's update index files this contact under

    @property
    def deleted(self) -> bool:
        return self.deleted_on is not None

    def core_json(self, *, keep: bool = True) -> dict[str, Any]:
        """The core properties (shared between responses: callers copy before adding to it).

        ``keep=False`` builds them without keeping them (a read past the store's JSON budget).
        """
        if self.core_cache is None:
            payload: dict[str, Any] = {"contact_id": self.contact_id}
            if self.email is not None:
                payload["email_address"] = self.email.to_json()
            for name in ("first_name", "last_name", "job_title", "company_name"):
                value = getattr(self, name)
                if value is not None:
                    payload[name] = value
            if self.birthday_month is not None and self.birthday_day is not None:
                payload["birthday_month"] = self.birthday_month
                payload["birthday_day"] = self.birthday_day
            if self.anniversary is not None:
                payload["anniversary"] = self.anniversary
            payload["update_source"] = self.update_source
            payload["create_source"] = self.create_source
            payload["created_at"] = utc_timestamp(self.created_at)
            payload["updated_at"] = utc_timestamp(self.updated_at)
            if self.deleted_on is not None:
                payload["deleted_at"] = self.deleted_on.isoformat()
            if not keep:
                return payload
            self.core_cache = payload
        return self.core_cache


def category_of(contact: Contact) -> str:
    if contact.deleted_on is not None:
        return "deleted"
    permission = contact.email.permission_to_send if contact.email is not None else "not_set"
    return "active" if permission in _MAILABLE else permission


def contact_fragment(contact: Contact, include: tuple[str, ...], *, keep: bool = True) -> orjson.Fragment:
    """``contact_json`` already serialized, for pages built with orjson; kept per ``include`` if ``keep``."""
    fragments = contact.fragments
    fragment = None if fragments is None else fragments.get(include)
    if fragment is None:
        fragment = orjson.Fragment(orjson.dumps(contact_json(contact, include, keep=keep)))
        if keep:
            if fragments is None:
                fragments = contact.fragments = {}
            fragments[include] = fragment
    return fragment


def contact_json(contact: Contact, include: tuple[str, ...], *, keep: bool = True) -> dict[str, Any]:
    """The ``ContactResource`` with the subresources named in ``include`` (``keep``: see ``core_json``)."""
    core = contact.core_json(keep=keep)
    if not include:
        return core
    payload = dict(core)
    for name in include:
        payload[name] = list(getattr(contact, name))
    return payload


@dataclass(slots=True, eq=False)
class ContactList:
    list_id: str
    seq: int
    name: str
    description: str | None
    favorite: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    def to_json(self, membership_count: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"list_id": self.list_id, "name": self.name}
        if self.description is not None:
            payload["description"] = self.description
        payload["favorite"] = self.favorite
        payload["created_at"] = utc_timestamp(self.created_at)
        payload["updated_at"] = utc_timestamp(self.updated_at)
        if self.deleted_at is not None:
            payload["deleted_at"] = utc_timestamp(self.deleted_at)
        if membership_count is not None:
            payload["membership_count"] = membership_count
        return payload

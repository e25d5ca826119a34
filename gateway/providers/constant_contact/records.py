"""Typed records of the Constant Contact v3 JSON the gateway reads, parsed defensively.

The API is documented by a Swagger file that is looser than the traffic (fields go missing, ``null``
stands in for absent, timestamps come with ``Z`` or with offsets, ``deleted_at`` is a bare date).  The
parsers here accept every documented variant and turn anything else into
:class:`~gateway.providers.errors.InvalidUpstreamResponse`, so a surprising body surfaces as one typed,
retryable error instead of a ``KeyError`` deep inside the gateway.  Each record keeps the JSON it came
from in ``raw``: snapshots and the GraphQL ``raw`` field need the provider's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from gateway.providers.errors import InvalidUpstreamResponse

__all__ = [
    "PROVIDER",
    "TERMINAL_ACTIVITY_STATES",
    "Activity",
    "Contact",
    "ContactEntriesPage",
    "ContactList",
    "ContactListsPage",
    "ContactSummary",
    "ContactsPage",
    "EmailAddress",
    "next_href",
    "summary_fields",
]

PROVIDER = "constant_contact"
TERMINAL_ACTIVITY_STATES = frozenset({"completed", "cancelled", "failed", "timed_out"})


def _invalid(what: str) -> InvalidUpstreamResponse:
    return InvalidUpstreamResponse(f"unexpected response shape: {what}", provider=PROVIDER)


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):  # the ABC check is the slow one
        raise _invalid(f"{what} is not an object")
    return value


def _required_str(payload: Mapping[str, Any], key: str, what: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(f"{what}.{key} is missing or not a string")
    return value


def _str(payload: Mapping[str, Any], key: str, what: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"{what}.{key} is not a string")


def _int(payload: Mapping[str, Any], key: str, what: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{what}.{key} is not an integer")
    return value


def _bool(payload: Mapping[str, Any], key: str, what: str) -> bool | None:
    value = payload.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _invalid(f"{what}.{key} is not a boolean")


def _datetime(payload: Mapping[str, Any], key: str, what: str) -> datetime | None:
    value = _str(payload, key, what)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{what}.{key} is not an ISO-8601 date-time") from None
    # An offset-less timestamp has never been seen; reading it as UTC beats comparing naive to aware.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(payload: Mapping[str, Any], key: str, what: str) -> date | None:
    """``deleted_at`` is documented as a date; a full date-time is tolerated and cut to its day."""
    value = _str(payload, key, what)
    if not value:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
    except ValueError:
        raise _invalid(f"{what}.{key} is not an ISO-8601 date") from None


def _strings(payload: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = payload.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(f"{what}.{key} is not a list of strings")
    return tuple(value)


def _items(payload: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{what}.{key} is not a list")
    return value


def next_href(payload: Mapping[str, Any], what: str) -> str | None:
    """``_links.next.href`` of a collection page, or None on the last page."""
    links = payload.get("_links")
    if links is None:
        return None
    nxt = _object(links, f"{what}._links").get("next")
    if nxt is None:
        return None
    return _str(_object(nxt, f"{what}._links.next"), "href", f"{what}._links.next") or None


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str
    permission_to_send: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    opt_in_source: str | None = None
    opt_in_date: datetime | None = None
    opt_out_source: str | None = None
    opt_out_date: datetime | None = None
    opt_out_reason: str | None = None
    confirm_status: str | None = None

    @classmethod
    def from_json(cls, payload: Any) -> EmailAddress:
        what = "contact.email_address"
        data = _object(payload, what)
        return cls(
            address=_required_str(data, "address", what),
            permission_to_send=_str(data, "permission_to_send", what),
            created_at=_datetime(data, "created_at", what),
            updated_at=_datetime(data, "updated_at", what),
            opt_in_source=_str(data, "opt_in_source", what),
            opt_in_date=_datetime(data, "opt_in_date", what),
            opt_out_source=_str(data, "opt_out_source", what),
            opt_out_date=_datetime(data, "opt_out_date", what),
            opt_out_reason=_str(data, "opt_out_reason", what),
            confirm_status=_str(data, "confirm_status", what),
        )


@dataclass(frozen=True, slots=True)
class Contact:
    """A ``ContactResource``.  ``deleted_at`` is set only on deleted contacts (a date, not a time)."""

    contact_id: str
    email_address: EmailAddress | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    birthday_month: int | None = None
    birthday_day: int | None = None
    anniversary: str | None = None
    create_source: str | None = None
    update_source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: date | None = None
    list_memberships: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, payload: Any) -> Contact:
        what = "contact"
        data = _object(payload, what)
        email = data.get("email_address")
        return cls(
            contact_id=_required_str(data, "contact_id", what),
            email_address=None if email is None else EmailAddress.from_json(email),
            first_name=_str(data, "first_name", what),
            last_name=_str(data, "last_name", what),
            job_title=_str(data, "job_title", what),
            company_name=_str(data, "company_name", what),
            birthday_month=_int(data, "birthday_month", what),
            birthday_day=_int(data, "birthday_day", what),
            anniversary=_str(data, "anniversary", what),
            create_source=_str(data, "create_source", what),
            update_source=_str(data, "update_source", what),
            created_at=_datetime(data, "created_at", what),
            updated_at=_datetime(data, "updated_at", what),
            deleted_at=_date(data, "deleted_at", what),
            list_memberships=_strings(data, "list_memberships", what),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class ContactsPage:
    """One page of ``GET /v3/contacts``; ``next_href`` is ``_links.next.href`` verbatim."""

    contacts: list[Contact]
    contacts_count: int | None = None
    next_href: str | None = None

    @classmethod
    def from_json(cls, payload: Any) -> ContactsPage:
        page = ContactEntriesPage.from_json(payload)
        return cls(
            contacts=[Contact.from_json(entry) for entry in page.entries],
            contacts_count=page.contacts_count,
            next_href=page.next_href,
        )


@dataclass(frozen=True, slots=True)
class ContactEntriesPage:
    """One page of ``GET /v3/contacts`` whose contacts are left as JSON objects (parsed on demand)."""

    entries: list[Mapping[str, Any]]
    contacts_count: int | None = None
    next_href: str | None = None

    @classmethod
    def from_json(cls, payload: Any) -> ContactEntriesPage:
        what = "contacts page"
        data = _object(payload, what)
        if "contacts" not in data:
            raise _invalid(f"{what} has no contacts")
        return cls(
            entries=[_object(item, "contact") for item in _items(data, "contacts", what)],
            contacts_count=_int(data, "contacts_count", what),
            next_href=next_href(data, what),
        )


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """The fields of a contact that a listing of deleted contacts needs, read and checked alone.

    A listing reads every deleted contact of the account to merge them in one order; parsing all of
    each one (:class:`Contact`) is left for the few that are shown.
    """

    contact_id: str
    address: str | None
    permission_to_send: str | None
    first_name: str | None
    last_name: str | None
    created_at: datetime | None
    deleted_at: date | None

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> ContactSummary:
        return cls(*summary_fields(payload))


_SummaryFields = tuple[str, str | None, str | None, str | None, str | None, datetime | None, date | None]


def summary_fields(payload: Any) -> _SummaryFields:
    """The fields of :class:`ContactSummary`, in its order, checked, without building one.

    Listings check every deleted contact of the account, so the common shape (an email address
    object, ``Z`` timestamps, a bare ``deleted_at`` date) is tested in one expression; anything else
    goes through the field-by-field parse, which accepts every documented variant or names the fault.
    """
    if type(payload) is dict:
        get = payload.get
        contact_id, email, created, deleted = (
            get("contact_id"), get("email_address"), get("created_at"), get("deleted_at")
        )  # fmt: skip
        first, last = get("first_name"), get("last_name")
        if (
            type(contact_id) is str
            and contact_id
            and type(email) is dict
            and (first is None or type(first) is str)
            and (last is None or type(last) is str)
            and type(created) is str
            and (deleted is None or (type(deleted) is str and len(deleted) == 10))
        ):
            address, permission = email.get("address"), email.get("permission_to_send")
            if type(address) is str and address and (permission is None or type(permission) is str):
                try:
                    created_at = datetime.fromisoformat(created)
                    deleted_at = date.fromisoformat(deleted) if deleted is not None else None
                except ValueError:
                    pass
                else:
                    if created_at.tzinfo is not None:
                        return contact_id, address, permission, first, last, created_at, deleted_at
    return _checked_summary_fields(payload)


def _checked_summary_fields(payload: Any) -> _SummaryFields:
    what = "contact"
    payload = _object(payload, what)
    email = payload.get("email_address")
    address = permission = None
    if email is not None:
        email = _object(email, f"{what}.email_address")
        address = _required_str(email, "address", f"{what}.email_address")
        permission = _str(email, "permission_to_send", f"{what}.email_address")
    return (
        _required_str(payload, "contact_id", what),
        address,
        permission,
        _str(payload, "first_name", what),
        _str(payload, "last_name", what),
        _datetime(payload, "created_at", what),
        _date(payload, "deleted_at", what),
    )


@dataclass(frozen=True, slots=True)
class Activity:
    """A bulk activity (``contact_delete``, ``add_list_memberships``) and its progress."""

    activity_id: str
    state: str
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    activity_errors: tuple[str, ...] = ()
    created_at: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_ACTIVITY_STATES

    @classmethod
    def from_json(cls, payload: Any) -> Activity:
        what = "activity"
        data = _object(payload, what)
        status = data.get("status")
        counts = {} if status is None else _object(status, f"{what}.status")
        return cls(
            activity_id=_required_str(data, "activity_id", what),
            state=_required_str(data, "state", what),
            percent_done=_int(data, "percent_done", what),
            items_total_count=_int(counts, "items_total_count", f"{what}.status"),
            items_completed_count=_int(counts, "items_completed_count", f"{what}.status"),
            activity_errors=_strings(data, "activity_errors", what),
            created_at=_datetime(data, "created_at", what),
            started_at=_datetime(data, "started_at", what),
            updated_at=_datetime(data, "updated_at", what),
            completed_at=_datetime(data, "completed_at", what),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class ContactList:
    """A contact list: restore targets.  ``membership_count`` comes only when it was asked for."""

    list_id: str
    name: str
    description: str | None = None
    favorite: bool | None = None
    membership_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, payload: Any) -> ContactList:
        what = "contact list"
        data = _object(payload, what)
        return cls(
            list_id=_required_str(data, "list_id", what),
            name=_required_str(data, "name", what),
            description=_str(data, "description", what),
            favorite=_bool(data, "favorite", what),
            membership_count=_int(data, "membership_count", what),
            created_at=_datetime(data, "created_at", what),
            updated_at=_datetime(data, "updated_at", what),
            deleted_at=_datetime(data, "deleted_at", what),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class ContactListsPage:
    lists: list[ContactList]
    lists_count: int | None = None
    next_href: str | None = None

    @classmethod
    def from_json(cls, payload: Any) -> ContactListsPage:
        what = "contact lists page"
        data = _object(payload, what)
        if "lists" not in data:
            raise _invalid(f"{what} has no lists")
        return cls(
            lists=[ContactList.from_json(item) for item in _items(data, "lists", what)],
            lists_count=_int(data, "lists_count", what),
            next_href=next_href(data, what),
        )

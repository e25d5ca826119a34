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

from gateway.core.model import Provider
from gateway.providers.errors import InvalidUpstreamResponse

__all__ = [
    "PROVIDER",
    "TERMINAL_ACTIVITY_STATES",
    "Activity",
    "Contact",
    "ContactEntriesPage",
    "ContactList",
    "ContactListsPage",
    "ContactsPage",
    "EmailAddress",
    "listing_fields",
    "next_href",
    "summary_fields",
]

PROVIDER = Provider.CONSTANT_CONTACT
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


_ODD = object()
"""What the common-shape readers below answer for a value only the field-by-field parse may judge."""


def _texts(values: tuple[Any, ...]) -> bool:
    """Every value is None or a string: the common case of a record's optional text fields."""
    return all(value is None or type(value) is str for value in values)


def _common_datetime(value: Any) -> Any:
    """``_datetime``'s answer for None, ``""`` and ISO-8601 strings with an offset; ``_ODD`` otherwise."""
    if not value:
        return None if value is None or value == "" else _ODD
    if type(value) is not str:
        return _ODD
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _ODD
    return moment if moment.tzinfo is not None else _ODD


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


@dataclass(slots=True)
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
        common = cls.from_common_json(payload)
        if common is not None:
            return common
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

    @classmethod
    def from_common_json(cls, payload: Any) -> EmailAddress | None:
        """The address if it has the common shape, read in one pass; None when ``from_json`` must
        look closer."""
        if type(payload) is not dict:
            return None
        get = payload.get
        address = get("address")
        permission, opt_in_source, opt_out_source, opt_out_reason, confirm_status = texts = (
            get("permission_to_send"), get("opt_in_source"), get("opt_out_source"), get("opt_out_reason"),
            get("confirm_status"),
        )  # fmt: skip
        if type(address) is not str or not address or not _texts(texts):
            return None
        created_at, updated_at, opt_in_date, opt_out_date = moments = (
            _common_datetime(get("created_at")), _common_datetime(get("updated_at")),
            _common_datetime(get("opt_in_date")), _common_datetime(get("opt_out_date")),
        )  # fmt: skip
        if any(moment is _ODD for moment in moments):
            return None
        return cls(
            address=address,
            permission_to_send=permission,
            created_at=created_at,
            updated_at=updated_at,
            opt_in_source=opt_in_source,
            opt_in_date=opt_in_date,
            opt_out_source=opt_out_source,
            opt_out_date=opt_out_date,
            opt_out_reason=opt_out_reason,
            confirm_status=confirm_status,
        )


@dataclass(slots=True)
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
        common = cls.from_common_json(payload)
        if common is not None:
            return common
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

    @classmethod
    def from_common_json(cls, payload: Any) -> Contact | None:
        """The contact if it has the common shape, read in one pass; None when ``from_json`` must
        look closer (it then accepts every other documented variant or names the fault)."""
        if type(payload) is not dict:
            return None
        get = payload.get
        contact_id, email, month, day = (
            get("contact_id"), get("email_address"), get("birthday_month"), get("birthday_day")
        )  # fmt: skip
        first_name, last_name, job_title, company_name, anniversary, create_source, update_source = texts = (
            get("first_name"), get("last_name"), get("job_title"), get("company_name"), get("anniversary"),
            get("create_source"), get("update_source"),
        )  # fmt: skip
        memberships, deleted = get("list_memberships"), get("deleted_at")
        if not (
            type(contact_id) is str
            and contact_id
            and _texts(texts)
            and (month is None or type(month) is int)
            and (day is None or type(day) is int)
            and (
                memberships is None
                or (type(memberships) is list and all(type(m) is str for m in memberships))
            )
            and (deleted is None or (type(deleted) is str and len(deleted) == 10))
        ):
            return None
        created_at, updated_at = _common_datetime(get("created_at")), _common_datetime(get("updated_at"))
        address = None if email is None else EmailAddress.from_common_json(email)
        if created_at is _ODD or updated_at is _ODD or (email is not None and address is None):
            return None
        try:
            deleted_at = None if deleted is None else date.fromisoformat(deleted)
        except ValueError:
            return None
        return cls(
            contact_id=contact_id,
            email_address=address,
            first_name=first_name,
            last_name=last_name,
            job_title=job_title,
            company_name=company_name,
            birthday_month=month,
            birthday_day=day,
            anniversary=anniversary,
            create_source=create_source,
            update_source=update_source,
            created_at=created_at,
            updated_at=updated_at,
            deleted_at=deleted_at,
            list_memberships=tuple(memberships or ()),
            raw=dict(payload),
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


def listing_fields(payload: Any) -> tuple[str, date | None]:
    """``(contact id, deleted_at)`` of a contact, checked: what a listing of deleted contacts reads of
    every contact (to order them).  The rest is checked when the contact is read
    (:func:`summary_fields`, then :class:`Contact`)."""
    if type(payload) is dict:
        contact_id, deleted = payload.get("contact_id"), payload.get("deleted_at")
        if type(contact_id) is str and contact_id:
            if deleted is None:
                return contact_id, None
            if type(deleted) is str and len(deleted) == 10:
                try:
                    return contact_id, date.fromisoformat(deleted)
                except ValueError:
                    pass
    what = "contact"
    payload = _object(payload, what)
    return _required_str(payload, "contact_id", what), _date(payload, "deleted_at", what)


_SummaryFields = tuple[str, str | None, str | None, str | None, str | None, datetime | None, date | None]


def summary_fields(payload: Any) -> _SummaryFields:
    """``(contact id, address, permission to send, first name, last name, created_at, deleted_at)``
    of a contact, checked: the fields a listing of deleted contacts needs.

    A listing reads every deleted contact of the account to merge them in one order; parsing all of
    each one (:class:`Contact`) is left for the few that are shown.  The common shape (an email address
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

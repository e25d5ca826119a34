"""Constant Contact records -> the provider-neutral model.

Constant Contact records no deletion reason (``UNKNOWN``) and only the day of the deletion
(``deleted_at`` is a date), so ``deleted_at`` in the common model stays null.  A contact whose address
was ``unsubscribed`` when it was deleted had withdrawn consent: it is not restorable without override.

Listings check every deleted contact (:func:`listed_contact`) but map only those that are read: the
``ListedContact`` entry is the contact's JSON, turned into a :class:`DeletedContact` from its
:class:`ContactSummary` (the few fields the common model needs), whose full :class:`Contact` is in turn
parsed lazily (``gateway.providers.lazy``) for the contacts actually shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from gateway.core.consent import unsubscribed_block
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import order_key
from gateway.providers.lazy import LazyRecord

from .records import Contact, ContactSummary, summary_fields

__all__ = ["from_listing_entry", "listed_contact", "to_deleted_contact", "to_deleted_contact_from_json"]

_PROVIDER = Provider.CONSTANT_CONTACT


def _name(first: str | None, last: str | None) -> str | None:
    if first and last:
        return f"{first} {last}"
    return first or last or None


def to_deleted_contact(contact: Contact) -> DeletedContact | None:
    """The common form of a parsed ``contact``, or None when it is not deleted."""
    if contact.deleted_at is None:
        return None
    address = contact.email_address
    return DeletedContact(
        provider=_PROVIDER,
        contact_id=contact.contact_id,
        email=address.address if address else "",
        name=_name(contact.first_name, contact.last_name),
        created_at=contact.created_at,
        deleted_on=contact.deleted_at,
        deleted_at=None,
        reason=DeletionReason.UNKNOWN,
        restore_blocked_by=unsubscribed_block(address.permission_to_send if address else None),
        raw=contact.raw,
        source=contact,
    )


def to_deleted_contact_from_json(payload: Mapping[str, Any]) -> DeletedContact | None:
    """The common form of a contact's JSON, parsing the full record only when it is first read."""
    summary = ContactSummary.from_json(payload)
    if summary.deleted_at is None:
        return None
    return DeletedContact(
        provider=_PROVIDER,
        contact_id=summary.contact_id,
        email=summary.address or "",
        name=_name(summary.first_name, summary.last_name),
        created_at=summary.created_at,
        deleted_on=summary.deleted_at,
        deleted_at=None,
        reason=DeletionReason.UNKNOWN,
        restore_blocked_by=unsubscribed_block(summary.permission_to_send),
        raw=payload,
        source=LazyRecord(partial(Contact.from_json, payload)),
    )


def from_listing_entry(entry: Mapping[str, Any]) -> DeletedContact:
    """The contact of a listing (or snapshot) entry: a deleted contact's JSON."""
    mapped = to_deleted_contact_from_json(entry)
    if mapped is None:
        raise ValueError("listing entries are deleted contacts")
    return mapped


def listed_contact(payload: Any) -> ListedContact | None:
    """A contact of a listing, checked and placed in the merge order; None when it is not deleted."""
    contact_id, _, _, _, _, _, deleted_on = summary_fields(payload)
    if deleted_on is None:
        return None
    return ListedContact(order_key(deleted_on, None, _PROVIDER, contact_id), payload, from_listing_entry)

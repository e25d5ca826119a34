"""Constant Contact records -> the provider-neutral model.

Constant Contact records no deletion reason (``UNKNOWN``) and only the day of the deletion
(``deleted_at`` is a date), so ``deleted_at`` in the common model stays null.  A contact whose address
was ``unsubscribed`` when it was deleted had withdrawn consent: it is not restorable without override.

Listings read every deleted contact (:func:`listed_contact`: the fields that order them) but map only
those that are read: the ``ListedContact`` entry is the contact's JSON, turned into a
:class:`DeletedContact` by :func:`from_listing_entry`.  A contact of the common shape is parsed whole
in one pass; any other is mapped from its ``summary_fields`` (the few fields the common model needs)
and its full :class:`Contact` parsed lazily (``gateway.core.lazy``), so a fault in a field that only a
provider-specific GraphQL field shows fails only the reads of that contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from gateway.core.consent import unsubscribed_block
from gateway.core.lazy import LazyRecord
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import order_key

from .records import Contact, listing_fields, summary_fields

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
    contact_id, address, permission, first, last, created_at, deleted_at = summary_fields(payload)
    if deleted_at is None:
        return None
    return DeletedContact(
        provider=_PROVIDER,
        contact_id=contact_id,
        email=address or "",
        name=_name(first, last),
        created_at=created_at,
        deleted_on=deleted_at,
        deleted_at=None,
        reason=DeletionReason.UNKNOWN,
        restore_blocked_by=unsubscribed_block(permission),
        raw=payload,
        source=LazyRecord(partial(Contact.from_json, payload)),
    )


def from_listing_entry(entry: Mapping[str, Any]) -> DeletedContact:
    """The contact of a listing (or snapshot) entry: a deleted contact's JSON, parsed whole in one
    pass when it has the common shape (else as :func:`to_deleted_contact_from_json` does)."""
    record = Contact.from_common_json(entry)
    mapped = to_deleted_contact(record) if record is not None else to_deleted_contact_from_json(entry)
    if mapped is None:
        raise ValueError("listing entries are deleted contacts")
    return mapped


def listed_contact(payload: Any) -> ListedContact | None:
    """A contact of a listing placed in the merge order; None when it is not deleted.  Only what that
    takes is checked here (``listing_fields``); the rest of the contact when it is read."""
    contact_id, deleted_on = listing_fields(payload)
    if deleted_on is None:
        return None
    return ListedContact(order_key(deleted_on, None, _PROVIDER, contact_id), payload, from_listing_entry)

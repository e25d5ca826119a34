"""Constant Contact records -> the provider-neutral model.

Constant Contact records no deletion reason (``UNKNOWN``) and only the day of the deletion
(``deleted_at`` is a date), so ``deleted_at`` in the common model stays null.  A contact whose address
was ``unsubscribed`` when it was deleted had withdrawn consent: it is not restorable without override.

Listings map from :class:`ContactSummary` (the few fields they need) and leave the full
:class:`Contact` to be parsed lazily (``gateway.providers.lazy``) for the contacts actually shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from gateway.core.consent import unsubscribed_block
from gateway.core.model import DeletedContact, DeletionReason, Provider
from gateway.providers.lazy import LazyRecord

from .records import Contact, ContactSummary

__all__ = ["to_deleted_contact", "to_deleted_contact_from_json"]


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
        provider=Provider.CONSTANT_CONTACT,
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
        provider=Provider.CONSTANT_CONTACT,
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

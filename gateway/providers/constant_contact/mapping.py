"""Constant Contact records -> the provider-neutral model.

Constant Contact records no deletion reason (``UNKNOWN``) and only the day of the deletion
(``deleted_at`` is a date), so ``deleted_at`` in the common model stays null.  A contact whose address
was ``unsubscribed`` when it was deleted had withdrawn consent: it is not restorable without override.
"""

from __future__ import annotations

from typing import Any

from gateway.core.consent import unsubscribed_block
from gateway.core.model import DeletedContact, DeletionReason, Provider

from .records import Contact

__all__ = ["to_deleted_contact"]


def _name(contact: Contact) -> str | None:
    parts = [part for part in (contact.first_name, contact.last_name) if part]
    return " ".join(parts) or None


def to_deleted_contact(contact: Contact) -> DeletedContact | None:
    """The common form of ``contact``, or None when it is not deleted."""
    if contact.deleted_at is None:
        return None
    address = contact.email_address
    raw: dict[str, Any] = contact.raw
    return DeletedContact(
        provider=Provider.CONSTANT_CONTACT,
        contact_id=contact.contact_id,
        email=address.address if address else "",
        name=_name(contact),
        created_at=contact.created_at,
        deleted_on=contact.deleted_at,
        deleted_at=None,
        reason=DeletionReason.UNKNOWN,
        restore_blocked_by=unsubscribed_block(address.permission_to_send if address else None),
        raw=raw,
        source=contact,
    )

"""Which deletions mean the person withdrew consent, and so must not be restored without an override.

A restore re-subscribes a person.  Where the deletion itself records that the person said no
(GetResponse ``unsubscribe``, ``complaint``, ``blacklisted``; a Constant Contact contact whose address
was already ``unsubscribed`` when it was deleted), the gateway refuses unless the caller overrides the
block with a stated reason, which is logged for audit.

Some signals are about the person, not about one list: a spam complaint or a blacklisting anywhere
means the address must not be mailed again from any account.  :func:`suppression_block` looks across
every record the providers hold for the address (the cross-provider suppression list), so restoring a
Constant Contact contact whose address complained at GetResponse is blocked too.  An unsubscribe stays
local to the provider (and, at GetResponse, the campaign) it was given for.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import DeletedContact, DeletionReason

__all__ = [
    "CONSENT_WITHDRAWN_REASONS",
    "SUPPRESSING_REASONS",
    "address_suppression",
    "restore_block",
    "suppression_block",
    "unsubscribed_block",
]

CONSENT_WITHDRAWN_REASONS = frozenset(
    {DeletionReason.UNSUBSCRIBE, DeletionReason.COMPLAINT, DeletionReason.BLACKLISTED}
)

SUPPRESSING_REASONS = frozenset({DeletionReason.COMPLAINT, DeletionReason.BLACKLISTED})
"""Reasons that suppress the address everywhere, whichever provider or list recorded them."""

_REASON_TEXT = {
    DeletionReason.UNSUBSCRIBE: "the person unsubscribed",
    DeletionReason.COMPLAINT: "the person reported a spam complaint",
    DeletionReason.BLACKLISTED: "the address is blacklisted",
}


def restore_block(reason: DeletionReason) -> str | None:
    """The consent block a deletion reason implies, or None when a restore is allowed."""
    return _REASON_TEXT.get(reason)


def unsubscribed_block(permission_to_send: str | None) -> str | None:
    """Constant Contact keeps a deleted contact's permission; ``unsubscribed`` means consent was withdrawn."""
    if permission_to_send == "unsubscribed":
        return "the person had unsubscribed before the contact was deleted"
    return None


def suppression_block(contact: DeletedContact, records_of_address: Iterable[DeletedContact]) -> str | None:
    """Why another record of the same address forbids restoring ``contact``, or None.

    ``records_of_address`` is everything the providers record as deleted for the address (``contact``
    itself may be among them and is ignored).
    """
    address = contact.email.lower()
    others = (r for r in records_of_address if r.key != contact.key and r.email.lower() == address)
    return address_suppression(others)


def address_suppression(records_of_address: Iterable[DeletedContact]) -> str | None:
    """Why an address must not be mailed from any account (a complaint or blacklisting), or None."""
    for record in records_of_address:
        if record.reason in SUPPRESSING_REASONS:
            return (
                f"{_REASON_TEXT[record.reason]} at {record.provider.name} "
                f"(contact {record.contact_id}, deleted {record.deleted_on.isoformat()})"
            )
    return None

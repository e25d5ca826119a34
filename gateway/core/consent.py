"""Which deletions mean the person withdrew consent, and so must not be restored without an override.

A restore re-subscribes a person.  Where the deletion itself records that the person said no
(GetResponse ``unsubscribe``, ``complaint``, ``blacklisted``; a Constant Contact contact whose address
was already ``unsubscribed`` when it was deleted), the gateway refuses unless the caller overrides the
block with a stated reason, which is logged for audit.
"""

from __future__ import annotations

from .model import DeletionReason

__all__ = ["CONSENT_WITHDRAWN_REASONS", "restore_block", "unsubscribed_block"]

CONSENT_WITHDRAWN_REASONS = frozenset(
    {DeletionReason.UNSUBSCRIBE, DeletionReason.COMPLAINT, DeletionReason.BLACKLISTED}
)

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

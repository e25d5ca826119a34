"""GetResponse records -> the provider-neutral model.

GetResponse records the moment of deletion (``deleted_on`` "YYYY-MM-DD HH:MM:SS", taken as UTC) and
always the *general* reason, which decides the consent block (unsubscribe, complaint, blacklisted).
"""

from __future__ import annotations

from gateway.core.consent import restore_block
from gateway.core.filters import utc_day
from gateway.core.model import DeletedContact, DeletionReason, Provider

from .records import DeletedContact as DeletedRecord

__all__ = ["to_deleted_contact"]


def to_deleted_contact(record: DeletedRecord) -> DeletedContact:
    reason = DeletionReason.from_provider(record.reason)
    return DeletedContact(
        provider=Provider.GETRESPONSE,
        contact_id=record.contact_id,
        email=record.email,
        name=record.name,
        created_at=record.created_on,
        deleted_on=utc_day(record.deleted_on),
        deleted_at=record.deleted_on,
        reason=reason,
        restore_blocked_by=restore_block(reason),
        raw=record.raw,
        source=record,
    )

"""GetResponse records -> the provider-neutral model.

GetResponse records the moment of deletion (``deleted_on`` "YYYY-MM-DD HH:MM:SS", taken as UTC) and
always the *general* reason, which decides the consent block (unsubscribe, complaint, blacklisted).

Listings map from :class:`DeletedContactSummary` (the fields they need) and leave the full record to
be parsed lazily (``gateway.providers.lazy``) for the contacts actually shown or restored.
"""

from __future__ import annotations

from functools import partial

from gateway.core.consent import restore_block
from gateway.core.filters import utc_day
from gateway.core.model import DeletedContact, DeletionReason, Provider
from gateway.providers.lazy import LazyRecord

from .records import DeletedContact as DeletedRecord
from .records import DeletedContactSummary

__all__ = ["to_deleted_contact"]


def to_deleted_contact(record: DeletedRecord | DeletedContactSummary) -> DeletedContact:
    """The common form of a deletion; from a summary, the full record is parsed when first read."""
    reason = DeletionReason.from_provider(record.reason)
    source = (
        record
        if isinstance(record, DeletedRecord)
        else LazyRecord(partial(DeletedRecord.from_entry, record.contact_id, record.raw))
    )
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
        source=source,
    )

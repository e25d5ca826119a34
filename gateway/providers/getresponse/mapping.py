"""GetResponse records -> the provider-neutral model.

GetResponse records the moment of deletion (``deleted_on`` "YYYY-MM-DD HH:MM:SS", taken as UTC) and
always the *general* reason, which decides the consent block (unsubscribe, complaint, blacklisted).

Listings check every deletion (:func:`listed_deletions`) but map only those that are read: the
``ListedContact`` entry is ``[contact id, entry]``, turned into a :class:`DeletedContact` by
:func:`from_listing_entry`, whose full record is in turn parsed lazily (``gateway.providers.lazy``).
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Any

from gateway.core.consent import restore_block
from gateway.core.filters import utc_day
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import order_key
from gateway.providers.lazy import LazyRecord

from .records import DeletedContact as DeletedRecord
from .records import DeletedContactSummary, deleted_summary_fields, id_map

__all__ = ["from_listing_entry", "listed_deletions", "to_deleted_contact"]

_PROVIDER = Provider.GETRESPONSE


def to_deleted_contact(record: DeletedRecord | DeletedContactSummary) -> DeletedContact:
    """The common form of a deletion; from a summary, the full record is parsed when first read."""
    reason = DeletionReason.from_provider(record.reason)
    source = (
        record
        if isinstance(record, DeletedRecord)
        else LazyRecord(partial(DeletedRecord.from_entry, record.contact_id, record.raw))
    )
    return DeletedContact(
        provider=_PROVIDER,
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


def from_listing_entry(entry: Any) -> DeletedContact:
    """The contact of a listing (or snapshot) entry ``[contact id, get_contacts_deleted entry]``."""
    contact_id, raw = entry
    return to_deleted_contact(DeletedContactSummary.from_entry(contact_id, raw))


def listed_deletions(result: Any, superseded: Collection[tuple[str, str]]) -> list[ListedContact]:
    """Every deletion of a ``get_contacts_deleted`` result, checked and placed in the merge order,
    except those ``superseded`` by an active contact (``(lower-cased email, campaign id)``)."""
    listed = []
    for contact_id, raw in id_map(result, "get_contacts_deleted result"):
        email, _, campaign, _, _, deleted_on = deleted_summary_fields(contact_id, raw)
        if superseded and (email.lower(), campaign) in superseded:
            continue
        order = order_key(utc_day(deleted_on), deleted_on, _PROVIDER, contact_id)
        listed.append(ListedContact(order, [contact_id, raw], from_listing_entry))
    return listed

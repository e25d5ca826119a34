"""GetResponse records -> the provider-neutral model.

GetResponse records the moment of deletion (``deleted_on`` "YYYY-MM-DD HH:MM:SS", taken as UTC) and
always the *general* reason, which decides the consent block (unsubscribe, complaint, blacklisted).

Listings read every deletion (:func:`listed_deletions`: the fields that order them and tell superseded
ones) but map only those that are read: the ``ListedContact`` entry is ``[contact id, entry]``,
turned into a :class:`DeletedContact` by :func:`from_listing_entry` (whole, or lazily: see there).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from gateway.core.consent import restore_block
from gateway.core.filters import utc_day
from gateway.core.lazy import LazyRecord
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import moment_order_key

from .records import DeletedContact as DeletedRecord
from .records import deleted_listing_fields, deleted_summary_fields, id_map

__all__ = ["from_listing_entry", "listed_deletions", "to_deleted_contact"]

_PROVIDER = Provider.GETRESPONSE


def _deleted_contact(
    contact_id: str,
    email: str,
    name: str | None,
    reason_text: str,
    created_on: datetime,
    deleted_on: datetime,
    raw: Mapping[str, Any],
    source: Any,
) -> DeletedContact:
    reason = DeletionReason.from_provider(reason_text)
    return DeletedContact(
        provider=_PROVIDER,
        contact_id=contact_id,
        email=email,
        name=name,
        created_at=created_on,
        deleted_on=utc_day(deleted_on),
        deleted_at=deleted_on,
        reason=reason,
        restore_blocked_by=restore_block(reason),
        raw=raw,
        source=source,
    )


def to_deleted_contact(record: DeletedRecord) -> DeletedContact:
    """The common form of a parsed deletion."""
    return _deleted_contact(
        record.contact_id,
        record.email,
        record.name,
        record.reason,
        record.created_on,
        record.deleted_on,
        record.raw,
        record,
    )


def from_listing_entry(entry: Any) -> DeletedContact:
    """The contact of a listing (or snapshot) entry ``[contact id, get_contacts_deleted entry]``.

    An entry of the common shape is parsed whole in one pass.  Any other is mapped from the fields
    the common model needs, and its full record is parsed (a fault raised) only when first read, so
    a field only a provider-specific GraphQL field shows fails only the contacts that show it.
    """
    contact_id, raw = entry
    record = DeletedRecord.from_common_entry(contact_id, raw)
    if record is not None:
        return to_deleted_contact(record)
    email, name, _, reason, created_on, deleted_on = deleted_summary_fields(contact_id, raw)
    lazy = LazyRecord(partial(DeletedRecord.from_entry, contact_id, raw))
    return _deleted_contact(contact_id, email, name, reason, created_on, deleted_on, raw, lazy)


def listed_deletions(result: Any, superseded: Collection[tuple[str, str]]) -> list[ListedContact]:
    """Every deletion of a ``get_contacts_deleted`` result placed in the merge order, except those
    ``superseded`` by an active contact (``(lower-cased email, campaign id)``).  Only what that takes
    is checked here (``deleted_listing_fields``); the rest of an entry when its contact is read."""
    listed: list[ListedContact] = []
    for contact_id, raw in id_map(result, "get_contacts_deleted result"):
        email, campaign, deleted_on = deleted_listing_fields(contact_id, raw)
        if superseded and (email.lower(), campaign) in superseded:
            continue
        order = moment_order_key(deleted_on, _PROVIDER, contact_id)
        listed.append(ListedContact(order, [contact_id, raw], from_listing_entry))
    return listed

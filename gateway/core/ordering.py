"""The one order in which deleted contacts from every provider are merged.

Most recent deletion first: by ``deleted_on`` (day) descending, then ``deleted_at`` descending where
the provider records a time (contacts with only a day sort after those with a time on the same day),
then provider name and provider contact id ascending as a deterministic tie-break.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .model import DeletedContact

__all__ = ["merge_order", "sort_key"]

_NO_TIME = float("inf")


def sort_key(contact: DeletedContact) -> tuple[int, float, str, str]:
    at = contact.deleted_at
    return (
        -contact.deleted_on.toordinal(),
        -at.timestamp() if isinstance(at, datetime) else _NO_TIME,
        contact.provider.value,
        contact.contact_id,
    )


def merge_order(contacts: Iterable[DeletedContact]) -> list[DeletedContact]:
    return sorted(contacts, key=sort_key)

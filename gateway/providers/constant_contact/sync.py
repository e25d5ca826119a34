"""Constant Contact as a ``SyncSource``: what a sync of the deleted-contact index reads upstream.

Constant Contact soft-deletes: a deleted contact keeps its id and stays readable with
``status=deleted``, and a delete or a restore bumps ``updated_at``.  So:

- :meth:`ConstantContactSyncSource.everything` is the live path's own listing (``status=deleted``,
  pages of ``page_size``), one :class:`SyncBatch` per page, so a backfill's memory is one page;
- :meth:`ConstantContactSyncSource.changes` reads every contact of any status updated at or after
  ``since`` (``status=all&updated_after``): the deleted ones are (re)written, the others were revived
  (restored) or never deleted, and the index drops whatever row it holds for their ids.

Rows carry the adapter's snapshot entry (the contact's JSON, ``adapter.snapshot_entry``) mapped by the
adapter's own mapping (``from_listing_entry``), so the index answers exactly what the live path would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from gateway.core.index import IndexedContact, SyncBatch
from gateway.core.model import Provider

from .client import MAX_PAGE_SIZE, ConstantContactClient
from .mapping import from_listing_entry
from .records import listing_fields

__all__ = ["ConstantContactSyncSource"]


def _indexed(entry: Mapping[str, Any]) -> IndexedContact:
    # The entry is the contact's JSON as listed: exactly what ``adapter.snapshot_entry`` keeps.
    return IndexedContact.of(from_listing_entry(entry), entry)


class ConstantContactSyncSource:
    """Reads one Constant Contact account for the index (see the module docstring)."""

    provider = Provider.CONSTANT_CONTACT

    def __init__(self, client: ConstantContactClient, *, page_size: int = MAX_PAGE_SIZE) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.client = client
        self.page_size = page_size

    async def everything(self) -> AsyncIterator[SyncBatch]:
        """Every deleted contact, one batch per page (one request each)."""
        async for page in self.client.iter_contact_entries(status=("deleted",), limit=self.page_size):
            batch = SyncBatch(requests=1)
            for entry in page.entries:
                # The live path lists only contacts that carry ``deleted_at`` (``listed_contact``).
                if listing_fields(entry)[1] is not None:
                    batch.deleted.append(_indexed(entry))
            yield batch

    async def changes(self, since: datetime) -> SyncBatch:
        """Every contact updated at or after ``since`` (``updated_after`` is inclusive), in one batch:
        deleted ones as rows, the others as ids whose rows go."""
        batch = SyncBatch()
        async for page in self.client.iter_contact_entries(
            status=("all",), limit=self.page_size, updated_after=since
        ):
            batch.requests += 1
            for entry in page.entries:
                contact_id, deleted_on = listing_fields(entry)
                if deleted_on is None:
                    batch.not_deleted.append(contact_id)  # restored, or never deleted
                else:
                    batch.deleted.append(_indexed(entry))
        return batch

"""The Constant Contact sync source against the emulator: a full read lists exactly what the live path
lists (ids, mapped contacts, snapshot entries), and a delta finds deletes, restores and re-deletions
at the cost of one request per page of changed contacts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings

from gateway.core.filters import DeletedContactFilter
from gateway.core.index import IndexedContact, SyncBatch
from gateway.providers.constant_contact.adapter import ConstantContactAdapter
from gateway.providers.constant_contact.sync import ConstantContactSyncSource

from .conftest import FAST_EMULATOR, ClientFactory, Emulator

SYNC_EMULATOR = replace(FAST_EMULATOR, seed=23, contacts=3000)


@pytest.fixture
def cc_settings() -> ConstantContactEmulatorSettings:
    return SYNC_EMULATOR


def _source_and_adapter(
    make_client: ClientFactory, cc: Emulator, **options: Any
) -> tuple[ConstantContactSyncSource, ConstantContactAdapter]:
    client = make_client(cc.transport(), base_url=cc.base_url)
    return ConstantContactSyncSource(client, **options), ConstantContactAdapter(client)


async def _ground_truth_ids(cc: Emulator, status: str) -> list[str]:
    truth = await cc.ground_truth()
    return [c["contact_id"] for c in truth["contacts"].values() if c["status"] == status]


async def _live(adapter: ConstantContactAdapter) -> dict[str, IndexedContact]:
    """What the live path lists, as the index should hold it."""
    listed = await adapter.list_deleted(DeletedContactFilter())
    return {
        item.contact_id: IndexedContact.of(item.contact, adapter.snapshot_entry(item.contact))
        for item in listed
    }


async def test_everything_is_the_live_listing_one_batch_per_page(
    make_client: ClientFactory, cc: Emulator
) -> None:
    source, adapter = _source_and_adapter(make_client, cc)
    batches = [batch async for batch in source.everything()]
    rows = [row for batch in batches for row in batch.deleted]

    live = await _live(adapter)
    assert len(live) > 500  # more than one page
    assert len(rows) == len({row.contact_id for row in rows}) == len(live)
    assert {row.contact_id: row for row in rows} == live
    for row in rows:
        assert adapter.from_snapshot_entry(row.entry) == adapter.from_snapshot_entry(
            live[row.contact_id].entry
        )
    assert set(live) == set(await _ground_truth_ids(cc, "deleted"))
    assert len(batches) == math.ceil(len(live) / 500)
    assert all(batch.requests == 1 and not batch.not_deleted and not batch.active for batch in batches)
    assert (await cc.operations())["getContacts"] == 2 * len(
        batches
    )  # the source's pages, then the live path's


async def test_changes_finds_deletes_restores_and_re_deletions(
    make_client: ClientFactory, cc: Emulator
) -> None:
    source, adapter = _source_and_adapter(make_client, cc)
    client = source.client
    truth = await cc.ground_truth()
    active = [c for c in truth["contacts"].values() if c["status"] == "active" and c["list_memberships"]]
    deleted = await _ground_truth_ids(cc, "deleted")
    since = datetime.now(UTC) - timedelta(seconds=1)

    assert await source.changes(since) == SyncBatch(requests=1)  # nothing changed yet: one empty page

    newly_deleted, re_deleted = active[0]["contact_id"], active[1]["contact_id"]
    restored, list_id = deleted[0], active[2]["list_memberships"][0]
    await client.delete_contact(newly_deleted)
    await client.delete_contact(re_deleted)
    await client.restore_contact(re_deleted, [list_id])
    await client.delete_contact(re_deleted)
    await client.restore_contact(restored, [list_id])

    batch = await source.changes(since)
    assert batch.requests == 1
    assert batch.not_deleted == [restored]
    live = await _live(adapter)
    assert {row.contact_id: row for row in batch.deleted} == {i: live[i] for i in (newly_deleted, re_deleted)}
    assert restored not in live

    # Nothing before ``since`` is read again.
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await source.changes(later) == SyncBatch(requests=1)


async def test_changes_reads_one_request_per_page_of_changed_contacts(
    make_client: ClientFactory, cc: Emulator
) -> None:
    source, adapter = _source_and_adapter(make_client, cc)
    client = source.client
    active = await _ground_truth_ids(cc, "active")
    chosen = active[:600]
    since = datetime.now(UTC) - timedelta(seconds=1)

    activities = await client.start_bulk_delete(chosen)
    await cc.advance_clock(60)  # the activities complete on the emulator clock
    done = await client.wait_for_activities([a.activity_id for a in activities], timeout=5)
    assert all(activity.state == "completed" for activity in done)

    before = (await cc.operations()).get("getContacts", 0)
    batch = await source.changes(since)
    pages = (await cc.operations())["getContacts"] - before
    assert batch.requests == pages == math.ceil(len(chosen) / 500) == 2
    assert sorted(row.contact_id for row in batch.deleted) == sorted(chosen)
    assert batch.not_deleted == []
    live = await _live(adapter)
    assert all(row == live[row.contact_id] for row in batch.deleted)


async def test_page_size_is_a_parameter(make_client: ClientFactory, cc: Emulator) -> None:
    source, _ = _source_and_adapter(make_client, cc, page_size=200)
    batches = [batch async for batch in source.everything()]
    deleted = await _ground_truth_ids(cc, "deleted")
    assert len(batches) == math.ceil(len(deleted) / 200)
    assert sum(len(batch.deleted) for batch in batches) == len(deleted)
    with pytest.raises(ValueError, match="page_size"):
        ConstantContactSyncSource(source.client, page_size=501)

"""The GetResponse sync source against the emulator.

A full read reports every deletion once, as the adapter maps it, with its sub-reason, campaign and
message; with the superseded rule applied to the memberships it reports, it is exactly what the live
path lists.  Replies are cut by days so that every reply the source keeps holds at most
``max_rows_per_reply`` rows (counted per call on the wire); a reply over it is asked again,
narrower.  A delta is one HTTP request and finds deletions, revivals, moves and re-deletions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from emulators.getresponse import GetResponseEmulatorSettings

from gateway.core.filters import DeletedContactFilter
from gateway.core.index import IndexedContact, Membership, SyncBatch
from gateway.providers.getresponse import GetResponseClient
from gateway.providers.getresponse.adapter import GetResponseAdapter
from gateway.providers.getresponse.records import DeletedContact as DeletedRecord
from gateway.providers.getresponse.sync import GetResponseSyncSource, _Walk

from .conftest import API_KEY, Emulator

SYNC_SETTINGS = GetResponseEmulatorSettings(seed=29, contacts=3000, api_keys=(API_KEY,))
BOUND = 150


@pytest.fixture
def gr_settings() -> GetResponseEmulatorSettings:
    return SYNC_SETTINGS


@dataclass
class Reply:
    method: str
    params: dict[str, Any]
    rows: int


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """Records, per JSON-RPC call, its method, conditions and the rows its result held."""

    inner: httpx.AsyncBaseTransport
    replies: list[Reply] = field(default_factory=list)
    posts: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = orjson.loads(request.content)
        calls = {call["id"]: call for call in (sent if isinstance(sent, list) else [sent])}
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        self.posts += 1
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
        body = orjson.loads(decoded.content)
        for reply in body if isinstance(body, list) else [body]:
            call = calls[reply["id"]]
            result = reply.get("result")
            params = call["params"][1] if len(call["params"]) > 1 else {}
            self.replies.append(Reply(call["method"], params, len(result) if isinstance(result, dict) else 0))
        return httpx.Response(
            response.status_code, headers=response.headers, content=raw, extensions=response.extensions
        )


def _client(emulator: Emulator) -> tuple[GetResponseClient, CountingTransport]:
    counting = CountingTransport(emulator.transport or httpx.AsyncHTTPTransport())
    return emulator.client(transport=counting), counting


async def _read_all(source: GetResponseSyncSource) -> list[SyncBatch]:
    return [batch async for batch in source.everything()]


def _rows(batches: Iterable[SyncBatch]) -> list[IndexedContact]:
    return [row for batch in batches for row in batch.deleted]


def _unsuperseded(rows: Iterable[IndexedContact], active: Iterable[Membership]) -> dict[str, IndexedContact]:
    """The superseded rule, as the index applies it (and as the adapter does)."""
    held = {(m.email.lower(), m.campaign_id) for m in active}
    return {row.contact_id: row for row in rows if (row.email.lower(), row.campaign_id) not in held}


async def _check_full_read(
    emulator: Emulator, batches: list[SyncBatch], adapter: GetResponseAdapter
) -> tuple[int, int]:
    """Checks a full read against the emulator and the live path; (deletions, deletions listed)."""
    truth = await emulator.ground_truth()
    catalog, rest = batches[0], batches[1:]
    assert catalog.campaigns == {cid: c["name"] for cid, c in truth["campaigns"].items()}
    assert catalog.messages == {mid: (m["name"], m["type"]) for mid, m in truth["messages"].items()}
    assert {kind for _, kind in catalog.messages.values()} == {
        "newsletter",
        "autoresponder",
        "ab_test",
        "draft",
    }

    rows = _rows(rest)
    assert len(rows) == len({row.contact_id for row in rows})  # every deletion exactly once
    active = [m for batch in rest for m in batch.active]
    assert sorted((m.contact_id, m.email, m.campaign_id) for m in active) == sorted(
        (cid, c["email"], c["campaign"]) for cid, c in truth["contacts"].items()
    )
    listed = await adapter.list_deleted(DeletedContactFilter())
    live = {item.contact_id: item.contact for item in listed}
    kept = _unsuperseded(rows, active)
    assert set(kept) == set(live)
    stored = {d["contact_id"]: d["reason"] for d in truth["deleted"]}
    for contact_id, row in kept.items():
        contact = live[contact_id]
        record: DeletedRecord = contact.record
        assert adapter.from_snapshot_entry(row.entry) == contact
        assert row.entry == adapter.snapshot_entry(contact)
        bare = replace(row, sub_reason=None, campaign_id=None, message_id=None)
        assert bare == IndexedContact.of(contact, adapter.snapshot_entry(contact))
        assert (row.campaign_id, row.message_id) == (record.campaign_id, record.message_id)
    for row in rows:
        reason = stored[row.contact_id]
        assert row.sub_reason == (reason if "::" in reason else None)
        assert row.reason == reason.split("::")[0]
    assert {row.sub_reason for row in rows} >= {"bounce::mailbox_full", "automation::remove-on-sale"}
    return len(rows), len(kept)


def _check_bound(counting: CountingTransport, batches: list[SyncBatch]) -> int:
    """Every reply kept holds at most BOUND rows; each over it is asked again (a wasted request).
    Returns the replies over the bound."""
    walked = [r for r in counting.replies if r.method in ("get_contacts", "get_contacts_deleted")]
    plain = [r for r in walked if "reason" not in r.params]
    over = [r for r in plain if r.rows > BOUND]
    windows = batches[1:]  # after the catalog: one batch per window kept
    assert sum(batch.requests for batch in windows) == len(plain) == len(windows) + len(over)
    kept = [len(batch.deleted) + len(batch.active) for batch in windows]
    assert max(kept) <= BOUND
    assert sorted(kept) == sorted(r.rows for r in plain if r.rows <= BOUND)
    # Each specific-reason call rides with its plain call, for the same days.
    specific = [r for r in walked if "reason" in r.params]
    deleted_windows = [r for r in plain if r.method == "get_contacts_deleted"]
    assert len(specific) == 8 * len(deleted_windows)
    return len(over)


async def _revive(emulator: Emulator, client: GetResponseClient, adapter: GetResponseAdapter) -> str:
    """Add a deleted address to its campaign again (confirmed at once); the deletion's id."""
    contact = (await adapter.list_deleted(DeletedContactFilter()))[0].contact
    await client.add_contact(campaign_id=contact.record.campaign_id, email=contact.email.upper())
    assert (await emulator.control.post("/_emulator/clock", json={"advance_seconds": 60})).status_code == 200
    return contact.contact_id


async def test_everything_is_the_live_listing_within_the_reply_bound(emulator: Emulator) -> None:
    client, counting = _client(emulator)
    source = GetResponseSyncSource(client, max_rows_per_reply=BOUND)
    adapter = GetResponseAdapter(client)
    superseded = await _revive(emulator, client, adapter)
    counting.replies.clear()
    counting.posts = 0
    before = await emulator.http_requests()
    batches = await _read_all(source)
    assert await emulator.http_requests() - before == counting.posts == sum(b.requests for b in batches)
    assert batches[0].requests == 1 and not batches[0].deleted and not batches[0].active
    # Windows aimed at half the bound from the density just seen: this seeded account overflows none.
    assert _check_bound(counting, batches) == 0
    assert len([b for b in batches if b.deleted]) > 3  # the walk did cut the account by days
    deletions, listed = await _check_full_read(emulator, batches, adapter)
    assert listed == deletions - 1  # the revived address supersedes its deletion (upper-cased, too)
    assert superseded in {row.contact_id for row in _rows(batches)}

    # The walk reaches back to the oldest campaign and ends with one window open below.
    deleted_windows = [
        r.params.get("deleted_on", {}) for r in counting.replies if r.method == "get_contacts_deleted"
    ]
    assert "FROM" not in deleted_windows[-1] and "TO" not in deleted_windows[0]


async def test_a_reply_over_the_bound_is_asked_again_narrower(emulator: Emulator) -> None:
    client, counting = _client(emulator)
    # One window of ten years at first: far over the bound, so the walk must split it.
    source = GetResponseSyncSource(client, max_rows_per_reply=BOUND, first_window_days=3650)
    batches = await _read_all(source)
    assert _check_bound(counting, batches) >= 1
    await _check_full_read(emulator, batches, GetResponseAdapter(client))


async def test_a_clock_far_ahead_only_widens_the_first_windows(emulator: Emulator) -> None:
    client, counting = _client(emulator)
    # Years without a deletion between "today" and the newest deletion: the empty windows grow.
    source = GetResponseSyncSource(client, max_rows_per_reply=BOUND, today=lambda: date(2040, 1, 1))
    batches = await _read_all(source)
    _check_bound(counting, batches)
    await _check_full_read(emulator, batches, GetResponseAdapter(client))


def test_the_walk_goes_below_a_floor_that_holds_too_much_and_accepts_a_day_it_cannot_cut() -> None:
    walk = _Walk(top=date(2026, 12, 31), floor=date(2026, 12, 1), bound=10, width=100, max_width=400,
                 last_floor=date(2000, 1, 1))  # fmt: skip
    first = walk.window()
    assert (first.from_day, first.to_day) == (None, None)  # top and floor in one window
    assert not walk.seen(first, 11)  # too much below the floor: it is not the end
    second = walk.window()
    assert second.from_day == date(2026, 9, 23) and second.to_day is None
    assert walk.seen(second, 5) and not walk.done
    third = walk.window()
    assert third.to_day == date(2026, 9, 22) and third.from_day is not None
    assert not walk.seen(third, 1000)  # over the bound: narrower, down to one day
    while (window := walk.window()).from_day != window.to_day:
        assert not walk.seen(window, 1000)
    assert walk.seen(window, 1000) and walk.oversized == [window]  # one day cannot be cut by days
    while not walk.done:
        walk.seen(walk.window(), 0)
    assert walk.floor == date(2000, 1, 1)


async def test_changes_is_one_request_and_finds_deletes_revivals_moves_and_re_deletions(
    emulator: Emulator,
) -> None:
    client, counting = _client(emulator)
    source = GetResponseSyncSource(client, max_rows_per_reply=BOUND)
    adapter = GetResponseAdapter(client)
    truth = await emulator.ground_truth()
    campaigns = sorted(truth["campaigns"])
    active = sorted(truth["contacts"].items())
    since = datetime.now(UTC) - timedelta(seconds=1)

    # An address deleted before (seeded) comes back in its campaign; another is moved; one is deleted;
    # one is revived and deleted again.
    listed = await adapter.list_deleted(DeletedContactFilter())
    revive, revive_twice = listed[0].contact, listed[1].contact
    revive_campaign = revive.record.campaign_id
    (moved_id, moved), (deleted_id, _) = active[0], active[1]
    target = next(c for c in campaigns if c != moved["campaign"])
    await emulator.rpc("move_contact", {"contact": moved_id, "campaign": target})
    assert isinstance((await client.delete_contacts([deleted_id]))[0], dict)
    for contact in (revive, revive_twice):
        await client.add_contact(campaign_id=contact.record.campaign_id, email=contact.email)
    advanced = await emulator.control.post("/_emulator/clock", json={"advance_seconds": 60})
    assert advanced.status_code == 200
    revived = {
        cid: c
        for cid, c in (await emulator.ground_truth())["contacts"].items()
        if c["email"] in (revive.email, revive_twice.email) and c["origin"] == "api"
    }
    assert len(revived) == 2
    (again_id,) = [cid for cid, c in revived.items() if c["email"] == revive_twice.email]
    assert isinstance((await client.delete_contacts([again_id]))[0], dict)

    before = await emulator.http_requests()
    counting.replies.clear()
    batch = await source.changes(since)
    assert batch.requests == 1 == await emulator.http_requests() - before
    day = {"FROM": since.date().isoformat()}
    asked = [r.params for r in counting.replies if r.method == "get_contacts_deleted"]
    assert len(asked) == 9 and all(params["deleted_on"] == day for params in asked)

    deleted = {row.contact_id: row for row in batch.deleted}
    assert set(deleted) == {deleted_id, again_id}
    ids = [m.contact_id for m in batch.active]
    assert len(ids) == len(set(ids))  # de-duplicated
    members = {m.contact_id: m for m in batch.active}
    assert members[moved_id].campaign_id == target
    (revived_id,) = set(revived) - {again_id}
    assert members[revived_id] == Membership(revived_id, revive.email, revive_campaign)
    assert again_id not in members and deleted_id not in members
    assert batch.campaigns and batch.messages  # the catalog rides along

    # The rows are what the live path now lists for them, and the revival supersedes the old deletion.
    live = {item.contact_id: item.contact for item in await adapter.list_deleted(DeletedContactFilter())}
    for contact_id, row in deleted.items():
        assert adapter.from_snapshot_entry(row.entry) == live[contact_id]
    assert revive.contact_id not in live
    # A re-deletion replaces the address's earlier deletion in the campaign (newest wins): the
    # index must drop the older row of the same address and campaign when it applies the new one.
    assert revive_twice.contact_id not in live and again_id in live
    assert (deleted[again_id].email.lower(), deleted[again_id].campaign_id) == (
        revive_twice.email.lower(),
        revive_twice.record.campaign_id,
    )
    assert (revive.email.lower(), revive_campaign) in {(m.email.lower(), m.campaign_id) for m in batch.active}


async def test_changes_without_batching_is_one_request_per_call(emulator: Emulator) -> None:
    client = emulator.client(batching=False)
    source = GetResponseSyncSource(client)
    before = await emulator.http_requests()
    batch = await source.changes(datetime.now(UTC))
    assert batch.requests == await emulator.http_requests() - before == 1 + 8 + 2 + 5
    assert batch.deleted == [] and batch.active == []


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        GetResponseSyncSource(None, max_rows_per_reply=0)  # type: ignore[arg-type]  # never reaches the client

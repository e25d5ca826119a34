"""Bulk activities: ``contact_delete`` and ``add_list_memberships``, progressing with the emulator clock.

An activity is ``initialized`` for ``activity_initialized_seconds``, then ``processing`` for
``activity_processing_seconds``, then ``completed``.  Its items (contact ids) are applied one by one,
evenly spread over the processing time: item ``i`` of ``n`` takes effect at
``started_at + processing * (i + 1) / n``, and that moment is what the contact's ``updated_at`` and
``deleted_at`` record.  Nothing runs in the background: ``settle`` applies whatever is due, in time
order across activities, and the app calls it before every request and before a ground-truth dump, so
moving the clock forward completes activities.

Per-item problems do not fail the activity (UNCONFIRMED how CC reports them): each adds a message to
``activity_errors`` that contains the contact id (``"contact_id <id> was not found."``), counts in
``status.error_count`` (``GET`` only) and as a completed item; the activity still ends ``completed``.
Deleting an already-deleted contact is not an error and changes nothing.

Request rules: ``contact_delete`` takes ``contact_ids`` (1..500) xor ``list_ids`` (1..50; the members
at the time of the request); ``add_list_memberships`` takes target ``list_ids`` (1..50) and a
``source`` of exactly one of ``contact_ids`` (1..500), ``list_ids`` (1..50) or
``all_active_contacts: true`` (contacts whose status is active), minus ``exclude.contact_ids`` for the
last two.  Adding a deleted contact to a list restores it (the documented bulk restore).  Unknown or
deleted target or source lists, malformed ids, and the unmodelled sources (``segment_id``, ``tag_ids``,
``engagement_level``) are 400s.  Activities older than ``activity_retention_days`` (10) answer 404.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .bodies import BodyReader
from .errors import activity_not_found
from .ids import normalized_uuid
from .model import utc_timestamp
from .settings import ConstantContactEmulatorSettings
from .store import MAX_LISTS_PER_CONTACT, ConstantContactStore

__all__ = ["Activity", "ActivityBook"]


@dataclass(eq=False)
class Activity:
    activity_id: str
    kind: str
    contact_ids: list[str]
    list_count: int | None
    target_list_ids: tuple[str, ...]
    created_at: datetime
    started_at: datetime
    completes_at: datetime
    processed: int = 0
    errors: list[str] = field(default_factory=list)
    last_item_at: datetime | None = None

    @property
    def total(self) -> int:
        return len(self.contact_ids)

    def item_time(self, index: int) -> datetime:
        return self.started_at + (self.completes_at - self.started_at) * ((index + 1) / self.total)

    def due(self, now: datetime) -> int:
        if now < self.started_at:
            return 0
        if now >= self.completes_at:
            return self.total
        elapsed = (now - self.started_at) / (self.completes_at - self.started_at)
        return min(self.total, math.floor(self.total * elapsed))

    def state(self, now: datetime) -> str:
        if now < self.started_at:
            return "initialized"
        return "completed" if now >= self.completes_at else "processing"

    def to_json(self, now: datetime, *, detailed: bool = False) -> dict[str, Any]:
        """The activity; ``detailed`` (``GET /activities/{id}``) adds ``status.error_count``, which
        only the generic ``Activity`` definition has, not the creation responses'."""
        state = self.state(now)
        payload: dict[str, Any] = {"activity_id": self.activity_id, "state": state}
        updated_at = self.created_at
        if state != "initialized":
            payload["started_at"] = utc_timestamp(self.started_at)
            updated_at = max(self.started_at, self.last_item_at or self.started_at)
        if state == "completed":
            payload["completed_at"] = utc_timestamp(self.completes_at)
            updated_at = self.completes_at
        payload["created_at"] = utc_timestamp(self.created_at)
        payload["updated_at"] = utc_timestamp(updated_at)
        if self.total:
            payload["percent_done"] = self.processed * 100 // self.total
        else:
            payload["percent_done"] = 100 if state == "completed" else 0
        payload["activity_errors"] = list(self.errors)
        status: dict[str, Any] = {"items_total_count": self.total, "items_completed_count": self.processed}
        if detailed:
            status["error_count"] = len(self.errors)
        if self.list_count is not None:
            status["list_count"] = self.list_count
        payload["status"] = status
        payload["_links"] = {"self": {"href": f"/v3/activities/{self.activity_id}"}}
        return payload


class ActivityBook:
    def __init__(self, store: ConstantContactStore, settings: ConstantContactEmulatorSettings) -> None:
        self.store = store
        self.settings = settings
        self.activities: dict[str, Activity] = {}

    def reset(self) -> None:
        self.activities.clear()

    # -- starting ----------------------------------------------------------------------------------

    def start_delete(self, payload: dict[str, Any]) -> Activity:
        reader = BodyReader(payload)
        by_contacts, by_lists = reader.present("contact_ids"), reader.present("list_ids")
        if by_contacts == by_lists:
            reader.fail("Specify either contact_ids or list_ids (not both).")
        contact_ids = reader.uuids("contact_ids", max_items=500, min_items=1) if by_contacts else None
        list_ids = self._lists(reader, "list_ids") if by_lists else None
        reader.finish()
        if list_ids is not None:
            return self._start("contact_delete", self._members(list_ids), len(list_ids), ())
        return self._start("contact_delete", contact_ids or [], None, ())

    def start_list_add(self, payload: dict[str, Any]) -> Activity:
        reader = BodyReader(payload)
        targets = self._lists(reader, "list_ids")
        source = reader.nested("source")
        items: list[str] = []
        if source is None:
            reader.fail("source is required.")
        else:
            items = self._source_items(reader, source)
        reader.finish()
        assert targets is not None
        return self._start("add_list_memberships", items, len(targets), tuple(targets))

    def _source_items(self, reader: BodyReader, source: BodyReader) -> list[str]:
        for unsupported in ("segment_id", "tag_ids", "engagement_level"):
            if source.present(unsupported):
                reader.fail(f"source.{unsupported} is not supported by this emulator.")
        chosen = [key for key in ("contact_ids", "list_ids") if source.present(key)]
        if source.payload.get("all_active_contacts") is True:
            chosen.append("all_active_contacts")
        if len(chosen) != 1:
            reader.fail("source must have exactly one of contact_ids, list_ids or all_active_contacts.")
            return []
        if chosen == ["contact_ids"]:
            return source.uuids("contact_ids", max_items=500, min_items=1) or []
        exclude_reader = reader.nested("exclude")
        excluded = set(exclude_reader.uuids("contact_ids", max_items=500) or ()) if exclude_reader else set()
        if chosen == ["list_ids"]:
            members = self._members(self._lists(source, "list_ids") or [])
        else:
            members = [c.contact_id for c in self.store.contacts if c.category == "active"]
        return [contact_id for contact_id in members if contact_id not in excluded]

    def _lists(self, reader: BodyReader, field_name: str) -> list[str] | None:
        list_ids = reader.uuids(field_name, max_items=50, min_items=1)
        for list_id in list_ids or ():
            if self.store.active_list(list_id) is None:
                reader.fail(f"{reader.name(field_name)} names a list that does not exist: {list_id}.")
        return list_ids

    def _members(self, list_ids: list[str]) -> list[str]:
        wanted = set(list_ids)
        return [c.contact_id for c in self.store.contacts if not wanted.isdisjoint(c.list_memberships)]

    def _start(
        self, kind: str, contact_ids: list[str], list_count: int | None, targets: tuple[str, ...]
    ) -> Activity:
        now = self.store.clock.now()
        started_at = now + timedelta(seconds=self.settings.activity_initialized_seconds)
        activity = Activity(
            activity_id=self.store.ids.mint(),
            kind=kind,
            contact_ids=list(dict.fromkeys(contact_ids)),
            list_count=list_count,
            target_list_ids=targets,
            created_at=now,
            started_at=started_at,
            completes_at=started_at + timedelta(seconds=self.settings.activity_processing_seconds),
        )
        self.activities[activity.activity_id] = activity
        self.settle(now)
        return activity

    # -- progress ----------------------------------------------------------------------------------

    def settle(self, now: datetime) -> None:
        """Apply every item that is due by ``now``, oldest first across all activities."""
        due: list[tuple[datetime, int, int, Activity]] = []
        for order, activity in enumerate(self.activities.values()):
            for index in range(activity.processed, activity.due(now)):
                due.append((activity.item_time(index), order, index, activity))
        heapq.heapify(due)
        while due:
            moment, _, index, activity = heapq.heappop(due)
            self._apply(activity, activity.contact_ids[index], min(moment, now))
            activity.processed = index + 1
            activity.last_item_at = moment

    def _apply(self, activity: Activity, contact_id: str, at: datetime) -> None:
        contact = self.store.find(contact_id)
        if contact is None:
            activity.errors.append(f"contact_id {contact_id} was not found.")
        elif activity.kind == "contact_delete":
            if not contact.deleted:
                self.store.delete(contact, at)
        elif not self.store.add_to_lists(contact, activity.target_list_ids, at):
            activity.errors.append(
                f"contact_id {contact_id} cannot be a member of more than {MAX_LISTS_PER_CONTACT} lists."
            )

    # -- reading -----------------------------------------------------------------------------------

    def get(self, raw_id: str) -> Activity:
        activity_id = normalized_uuid(raw_id)
        activity = self.activities.get(activity_id) if activity_id else None
        retention = timedelta(days=self.settings.activity_retention_days)
        if activity is None or self.store.clock.now() - activity.created_at > retention:
            raise activity_not_found(activity_id)
        return activity

    def ground_truth(self) -> dict[str, Any]:
        now = self.store.clock.now()
        return {
            activity_id: {
                **activity.to_json(now, detailed=True),
                "type": activity.kind,
                "contact_ids": activity.contact_ids,
            }
            for activity_id, activity in self.activities.items()
        }

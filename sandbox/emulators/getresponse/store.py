"""The in-memory GetResponse account: campaigns, messages, contacts, the deletion history, the queue.

Rules the store enforces (the JSON-RPC methods only translate parameters):

- An address is unique per campaign among active contacts (compared case-insensitively) and among
  queued additions.
- Deleting keeps the contact's id in the deletion record; the id is never reused and every method
  answers ``Missing contact`` for it from then on.
- ``get_contacts_deleted`` shows one entry per campaign and address: the newest removal.  The store
  keeps that view up to date on every deletion, so a query never has to collapse the history itself.
  Conditions apply to that newest removal.  A removal stays listed after the address is added to the
  campaign again (the history is not rewritten; UNCONFIRMED, but the docs' "added and removed
  multiple times" wording implies the history survives re-adding).
- ``add_contact`` queues; the contact becomes active (with a NEW id, origin ``api``) once the emulator
  clock passes ``confirms_at``.  Nothing runs in the background: the store confirms what is due
  whenever it is asked (``confirm_due``), which the app does before every API request.

Indexes for large accounts: the newest removals by their ``deleted_on`` day and the active contacts
by their ``created_on`` and ``changed_on`` days (``emulators.getresponse.day_index``), so a read of a
few days costs what it returns.  Such a read answers in the same order as a walk of every record
(each record's ``rank`` is its place in that walk).  ``load`` pauses the cyclic garbage collector: an
account of a million records is built without a collection pass over it.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import orjson

from emulators.control import Clock

from .day_index import DayIndex, day_number
from .errors import (
    CONTACT_ALREADY_ADDED,
    CONTACT_ALREADY_EXISTS,
    CONTACT_ALREADY_QUEUED,
    MISSING_CAMPAIGN,
    MISSING_CONTACT,
    MISSING_MESSAGE,
    method_error,
)
from .ids import IdMinter
from .model import Account, CallbackConfig, Campaign, Contact, Deletion, Message, QueuedContact

__all__ = ["AccountData", "GetResponseStore"]

_MembershipKey = tuple[str, str]  # (campaign id, casefolded email)


def _membership(campaign_id: str, email: str) -> _MembershipKey:
    return campaign_id, email.casefold()


@dataclass
class AccountData:
    """Everything an account starts with; ``ids`` and ``rng`` continue where seeding stopped."""

    account: Account
    ids: IdMinter
    rng: random.Random
    campaigns: list[Campaign] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)


class GetResponseStore:
    def __init__(
        self,
        clock: Clock,
        data: AccountData,
        *,
        confirmation_delay_seconds: float = 30.0,
        json_cache_removals: int = 100_000,
    ) -> None:
        self.clock = clock
        self.json_cache_removals = json_cache_removals  # removals that may keep their JSON between reads
        self.confirmation_delay = timedelta(seconds=confirmation_delay_seconds)
        self.load(data)

    def load(self, data: AccountData) -> None:
        """Replace the whole account (used at start and by ``POST /_emulator/reset``)."""
        self.account = data.account
        self._ids = data.ids
        self._rng = data.rng
        self.campaigns: dict[str, Campaign] = {c.campaign_id: c for c in data.campaigns}
        self.messages: dict[str, Message] = {m.message_id: m for m in data.messages}
        self.contacts: dict[str, Contact] = {}
        self._active: dict[_MembershipKey, str] = {}
        self._created_days: DayIndex[Contact] = DayIndex()
        self._changed_days: DayIndex[Contact] = DayIndex()
        self._next_rank = 0
        self.deletions: list[Deletion] = []
        self._latest_deletions: dict[_MembershipKey, Deletion] = {}
        self._deleted_days: DayIndex[Deletion] = DayIndex()
        self._json_kept = 0  # removals holding their serialized entry
        collecting = gc.isenabled()
        gc.disable()
        try:
            for contact in data.contacts:
                self._add_active(contact)
            for deletion in data.deletions:
                self._record_deletion(deletion)
        finally:
            if collecting:
                gc.enable()
        self.queue: dict[_MembershipKey, QueuedContact] = {}
        self.callbacks: CallbackConfig | None = None

    # -- lookups -------------------------------------------------------------------------------------

    def campaign(self, campaign_id: str) -> Campaign:
        if campaign_id not in self.campaigns:
            raise method_error(MISSING_CAMPAIGN)
        return self.campaigns[campaign_id]

    def message(self, message_id: str) -> Message:
        if message_id not in self.messages:
            raise method_error(MISSING_MESSAGE)
        return self.messages[message_id]

    def contact(self, contact_id: str) -> Contact:
        if contact_id not in self.contacts:
            raise method_error(MISSING_CONTACT)
        return self.contacts[contact_id]

    def latest_deletions(self) -> Iterable[Deletion]:
        """The newest removal per campaign and address, in a fixed but meaningless order."""
        return self._latest_deletions.values()

    def entry(self, deletion: Deletion) -> orjson.Fragment:
        """The removal's ``get_contacts_deleted`` entry, kept on it while the JSON budget lasts."""
        if deletion.fragment is not None:
            return deletion.fragment
        if self._json_kept >= self.json_cache_removals:
            return orjson.Fragment(orjson.dumps(deletion.api_json()))
        self._json_kept += 1
        return deletion.api_fragment()

    def latest_deletions_between(self, first_day: str | None, last_day: str | None) -> list[Deletion] | None:
        """The newest removals deleted in the inclusive range of ISO days, in ``latest_deletions`` order.

        None when the range holds most of them: walking ``latest_deletions`` is then the cheaper way.
        """
        return _in_rank_order(self._deleted_days, first_day, last_day)

    def contacts_created_between(self, first_day: str | None, last_day: str | None) -> list[Contact] | None:
        """Active contacts created in the range, in ``contacts`` order; None when most were."""
        return _in_rank_order(self._created_days, first_day, last_day)

    def contacts_changed_between(self, first_day: str | None, last_day: str | None) -> list[Contact] | None:
        """Active contacts changed in the range, in ``contacts`` order; None when most were."""
        return _in_rank_order(self._changed_days, first_day, last_day, total=len(self.contacts))

    # -- changes -------------------------------------------------------------------------------------

    def delete_contact(self, contact_id: str, *, reason: str, message_id: str | None = None) -> Deletion:
        contact = self.contact(contact_id)
        if message_id is not None:
            self.message(message_id)
        del self.contacts[contact_id]
        del self._active[_membership(contact.campaign_id, contact.email)]
        self._unfile(contact)
        deletion = Deletion(
            contact_id=contact.contact_id,
            campaign_id=contact.campaign_id,
            message_id=message_id,
            name=contact.name,
            email=contact.email,
            origin=contact.origin,
            ip=contact.ip,
            cycle_day=contact.cycle_day,
            reason=reason,
            created_on=contact.created_on,
            deleted_on=self.clock.now(),
        )
        self._record_deletion(deletion)
        return deletion

    def move_contact(self, contact_id: str, campaign_id: str) -> Contact:
        contact = self.contact(contact_id)
        self.campaign(campaign_id)
        target = _membership(campaign_id, contact.email)
        if target in self._active:  # includes moving a contact to the campaign it is already in
            raise method_error(CONTACT_ALREADY_EXISTS)
        del self._active[_membership(contact.campaign_id, contact.email)]
        self._unfile(contact)
        contact.campaign_id = campaign_id
        contact.changed_on = self.clock.now()
        self._file(contact)
        self._active[target] = contact_id
        return contact

    def queue_contact(
        self,
        *,
        campaign_id: str,
        email: str,
        name: str,
        cycle_day: int | None,
        ip: str | None,
        customs: tuple[tuple[str, str], ...],
    ) -> QueuedContact:
        self.campaign(campaign_id)
        key = _membership(campaign_id, email)
        if key in self._active:
            raise method_error(CONTACT_ALREADY_ADDED)
        if key in self.queue:
            raise method_error(CONTACT_ALREADY_QUEUED)
        now = self.clock.now()
        queued = QueuedContact(
            campaign_id=campaign_id,
            email=email,
            name=name,
            cycle_day=cycle_day,
            ip=ip,
            customs=customs,
            queued_at=now,
            confirms_at=now + self.confirmation_delay,
        )
        self.queue[key] = queued
        return queued

    def confirm_due(self) -> list[Contact]:
        """Turn every queued addition whose confirmation time has passed into an active contact."""
        now = self.clock.now()
        confirmed: list[Contact] = []
        for key, queued in list(self.queue.items()):
            if queued.confirms_at > now:
                continue
            del self.queue[key]
            contact = Contact(
                contact_id=self._ids.mint(),
                campaign_id=queued.campaign_id,
                name=queued.name,
                email=queued.email,
                origin="api",
                ip=queued.ip,
                cycle_day=queued.cycle_day,
                created_on=queued.confirms_at,
                shuffle_key=self._rng.getrandbits(32),
            )
            self._add_active(contact)
            confirmed.append(contact)
        return confirmed

    def set_callbacks(self, config: CallbackConfig | None) -> None:
        self.callbacks = config

    # -- internals -----------------------------------------------------------------------------------

    def _add_active(self, contact: Contact) -> None:
        contact.rank = self._next_rank  # a new key goes last in the dict, and so in rank order
        self._next_rank += 1
        self.contacts[contact.contact_id] = contact
        self._active[_membership(contact.campaign_id, contact.email)] = contact.contact_id
        self._file(contact)

    def _file(self, contact: Contact) -> None:
        self._created_days.add(day_number(contact.created_on), contact)
        if contact.changed_on is not None:
            self._changed_days.add(day_number(contact.changed_on), contact)

    def _unfile(self, contact: Contact) -> None:
        self._created_days.discard(day_number(contact.created_on), contact)
        if contact.changed_on is not None:
            self._changed_days.discard(day_number(contact.changed_on), contact)

    def _record_deletion(self, deletion: Deletion) -> None:
        self.deletions.append(deletion)
        key = _membership(deletion.campaign_id, deletion.email)
        current = self._latest_deletions.get(key)
        if current is None:
            deletion.rank = len(self._latest_deletions)  # a new key goes last in the dict
        elif deletion.deleted_on >= current.deleted_on:
            deletion.rank = current.rank  # a replaced value keeps its key's place
            self._deleted_days.discard(day_number(current.deleted_on), current)
        else:
            return
        self._latest_deletions[key] = deletion
        self._deleted_days.add(day_number(deletion.deleted_on), deletion)

    # -- ground truth --------------------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        return {
            "campaigns": {cid: campaign.to_json() for cid, campaign in self.campaigns.items()},
            "messages": {mid: message.to_json() for mid, message in self.messages.items()},
            "contacts": {cid: contact.to_json() for cid, contact in self.contacts.items()},
            "queued": [queued.to_ground_truth() for queued in self.queue.values()],
            "deleted": [deletion.to_ground_truth() for deletion in self.deletions],
        }


_Ranked = TypeVar("_Ranked", Contact, Deletion)


def _in_rank_order(
    index: DayIndex[_Ranked], first_day: str | None, last_day: str | None, *, total: int | None = None
) -> list[_Ranked] | None:
    """The records of the day range sorted by rank; None when they are most of ``total`` records."""
    count = index.count_between(first_day, last_day)
    if count * 2 > (len(index) if total is None else total):
        return None
    return sorted(index.between(first_day, last_day), key=_rank)


def _rank(record: Contact | Deletion) -> int:
    return record.rank

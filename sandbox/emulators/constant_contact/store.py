"""The in-memory Constant Contact account: contacts in creation order, lists, and the rules on them.

Rules the store enforces (request handlers only translate bodies into these calls):

- An email address belongs to at most one contact, deleted or not, compared case-insensitively
  (``conflict`` otherwise: CC answers 409 for an address held by a deleted contact too).
- Contacts are never removed.  ``delete`` sets ``deleted_on`` to the UTC day, clears the list
  memberships, and bumps ``updated_at`` (and the address's ``updated_at``) so that incremental syncs
  through ``updated_after`` see deletions: an assumption, CC does not document it.  ``update_source``
  becomes ``Account``.
- ``revive`` drops ``deleted_on`` (``deleted_at`` disappears from the JSON rather than turning null)
  and bumps ``updated_at``.
- Every change goes through ``refresh``, which keeps the indexes and the JSON cache right.

Indexes: the address and id maps; per status, the seqs of its contacts in ascending order (a
status-only page reads a slice); and every contact's ``updated_at`` in ascending order beside its seq
(``updated_since``), so an incremental read (``updated_after``) costs what it returns rather than a
walk of the whole account.  ``load`` builds them in bulk: an account of a million contacts is
loaded with the cyclic garbage collector paused (nothing it builds is garbage).
"""

from __future__ import annotations

import bisect
import gc
import random
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from emulators.control import Clock

from .errors import conflict, contact_not_found, invalid_id
from .ids import UuidMinter, normalized_uuid
from .model import (
    CATEGORIES,
    INCLUDES,
    Contact,
    ContactList,
    EmailAddress,
    category_of,
    contact_fragment,
    contact_json,
)

__all__ = ["MAX_LISTS_PER_CONTACT", "AccountData", "ConstantContactStore"]

MAX_LISTS_PER_CONTACT = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def moment_key(moment: datetime) -> int:
    """Microseconds since 1970 (exact, and ordered like the moments): the update index's key."""
    return (moment - _EPOCH) // _MICROSECOND


@dataclass
class AccountData:
    """Everything an account starts with; ``ids`` and ``rng`` continue where seeding stopped."""

    ids: UuidMinter
    rng: random.Random
    lists: list[ContactList] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)  # in creation order


class ConstantContactStore:
    def __init__(self, clock: Clock, data: AccountData, *, json_cache_contacts: int = 100_000) -> None:
        self.clock = clock
        self.json_cache_contacts = json_cache_contacts  # contacts that may keep their JSON between reads
        self.version = 0  # bumped by every change, reloads included; cached answers compare it
        self.load(data)

    def load(self, data: AccountData) -> None:
        """Replace the whole account (used at start and by ``POST /_emulator/reset``)."""
        self.ids = data.ids
        self.rng = data.rng
        self.lists: dict[str, ContactList] = {}
        self.ordered_lists: list[ContactList] = []
        for contact_list in data.lists:
            contact_list.seq = len(self.ordered_lists)  # lists page in this order
            self.ordered_lists.append(contact_list)
            self.lists[contact_list.list_id] = contact_list
        self.contacts: list[Contact] = []
        self._by_id: dict[str, Contact] = {}
        self._by_email: dict[str, Contact] = {}
        # Per status, the seqs of its contacts in ascending order: a status-only page reads a slice.
        self.by_category: dict[str, list[int]] = {category: [] for category in CATEGORIES}
        # Every contact's updated_at key, ascending, and beside each the contact's seq.
        self._updated_keys = array("q")
        self._updated_seqs = array("q")
        self._json_kept = 0  # contacts holding serialized JSON (``fragment``)
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._load_contacts(data.contacts)
        finally:
            if collecting:
                gc.enable()
        self.version += 1

    def _load_contacts(self, contacts: list[Contact]) -> None:
        self.contacts = contacts = list(contacts)
        by_id, by_email = self._by_id, self._by_email
        by_category = self.by_category
        updated_keys: list[int] = []
        for seq, contact in enumerate(contacts):
            contact.seq = seq
            by_id[contact.contact_id] = contact
            if contact.email is not None:
                by_email[contact.email.address.casefold()] = contact
            category = contact.category = category_of(contact)
            by_category[category].append(seq)  # seqs ascend: appended in order
            contact.core_cache = None
            contact.fragments = None
            contact.updated_key = key = moment_key(contact.updated_at)
            updated_keys.append(key)
        ordered = sorted(range(len(contacts)), key=updated_keys.__getitem__)
        self._updated_seqs = array("q", ordered)
        self._updated_keys = array("q", [updated_keys[seq] for seq in ordered])

    # -- lookups -------------------------------------------------------------------------------------

    def find(self, contact_id: str) -> Contact | None:
        return self._by_id.get(contact_id)

    def contact(self, raw_id: str) -> Contact:
        """The contact named by a path parameter: 404 when malformed or unknown."""
        contact_id = normalized_uuid(raw_id)
        if contact_id is None:
            raise invalid_id("contact_id")
        contact = self._by_id.get(contact_id)
        if contact is None:
            raise contact_not_found(contact_id)
        return contact

    def by_email(self, address: str) -> Contact | None:
        return self._by_email.get(address.casefold())

    def active_list(self, list_id: str) -> ContactList | None:
        contact_list = self.lists.get(list_id)
        return contact_list if contact_list is not None and contact_list.deleted_at is None else None

    def category_count(self, category: str) -> int:
        return len(self.by_category[category])

    def fragment(self, contact: Contact, include: tuple[str, ...]) -> orjson.Fragment:
        """The contact's JSON for a page: kept on the contact while the JSON budget lasts.

        Past ``json_cache_contacts`` contacts, a contact without kept JSON is serialized on every read,
        so reading a whole large account does not leave a copy of it in memory.
        """
        keep = contact.fragments is not None or self._json_kept < self.json_cache_contacts
        if keep and contact.fragments is None:
            self._json_kept += 1
        return contact_fragment(contact, include, keep=keep)

    def updated_since(self, after: datetime | None, before: datetime | None) -> list[int] | None:
        """Seqs (ascending) of the contacts updated in ``[after, before)``; None when that is most of them.

        The answer is exact; None tells the caller a walk in creation order is the cheaper way.
        """
        keys = self._updated_keys
        low = 0 if after is None else bisect.bisect_left(keys, moment_key(after))
        high = len(keys) if before is None else bisect.bisect_left(keys, moment_key(before))
        if (high - low) * 2 > len(keys):
            return None
        return sorted(self._updated_seqs[low:high])

    def membership_counts(self, *, active_only: bool) -> Counter[str]:
        counts: Counter[str] = Counter()
        for contact in self.contacts:
            if contact.list_memberships and (not active_only or contact.category == "active"):
                counts.update(contact.list_memberships)
        return counts

    # -- changes -------------------------------------------------------------------------------------

    def create(self, contact: Contact) -> Contact:
        """Add a new contact at the end of the creation order (``seq`` is assigned here)."""
        if contact.email is not None:
            self._check_address_free(contact.email.address, None)
        self._append(contact)
        return contact

    def set_email(self, contact: Contact, email: EmailAddress | None) -> None:
        if email is not None:
            self._check_address_free(email.address, contact)
        if contact.email is not None:
            self._by_email.pop(contact.email.address.casefold(), None)
        contact.email = email
        if email is not None:
            self._by_email[email.address.casefold()] = contact

    def delete(self, contact: Contact, at: datetime) -> None:
        contact.deleted_on = at.date()
        contact.list_memberships = ()
        contact.update_source = "Account"
        self.touch(contact, at, email_too=True)

    def revive(self, contact: Contact, at: datetime, update_source: str) -> None:
        contact.deleted_on = None
        contact.update_source = update_source
        self.touch(contact, at)

    def add_to_lists(self, contact: Contact, list_ids: Iterable[str], at: datetime) -> bool:
        """Add memberships (reviving a deleted contact); False when that would pass 50 lists."""
        merged = list(dict.fromkeys([*contact.list_memberships, *list_ids]))
        if len(merged) > MAX_LISTS_PER_CONTACT:
            return False
        changed = merged != list(contact.list_memberships) or contact.deleted
        contact.list_memberships = merged
        if contact.deleted:
            self.revive(contact, at, "Account")
        elif changed:
            self.touch(contact, at)
        return True

    def touch(self, contact: Contact, at: datetime, *, email_too: bool = False) -> None:
        contact.updated_at = max(at, contact.updated_at)
        if email_too and contact.email is not None:
            contact.email.updated_at = max(at, contact.email.updated_at)
        self.refresh(contact)

    def refresh(self, contact: Contact) -> None:
        """Call after any change to ``contact``: fixes its status category and drops its cached JSON."""
        category = category_of(contact)
        if category != contact.category:
            if contact.category:
                old = self.by_category[contact.category]
                del old[bisect.bisect_left(old, contact.seq)]
            bisect.insort(self.by_category[category], contact.seq)
            contact.category = category
        key = moment_key(contact.updated_at)
        if key != contact.updated_key:
            self._file_update(contact, key)
        contact.core_cache = None
        if contact.fragments is not None:
            self._json_kept -= 1
            contact.fragments = None
        self.version += 1

    # -- internals -----------------------------------------------------------------------------------

    def _append(self, contact: Contact) -> None:
        contact.seq = len(self.contacts)
        self.contacts.append(contact)
        self._by_id[contact.contact_id] = contact
        if contact.email is not None:
            self._by_email[contact.email.address.casefold()] = contact
        contact.category = ""
        contact.updated_key = None
        self.refresh(contact)

    def _file_update(self, contact: Contact, key: int) -> None:
        """Move ``contact`` in the update index from its old key to ``key``."""
        keys, seqs = self._updated_keys, self._updated_seqs
        if contact.updated_key is not None:
            index = bisect.bisect_left(keys, contact.updated_key)
            while seqs[index] != contact.seq:  # among contacts updated at the very same moment
                index += 1
            del keys[index]
            del seqs[index]
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        seqs.insert(index, contact.seq)
        contact.updated_key = key

    def _check_address_free(self, address: str, owner: Contact | None) -> None:
        holder = self._by_email.get(address.casefold())
        if holder is not None and holder is not owner:
            raise conflict(holder.contact_id)

    # -- ground truth --------------------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        counts = self.membership_counts(active_only=False)
        return {
            "contacts": {
                c.contact_id: {**contact_json(c, INCLUDES), "status": c.category} for c in self.contacts
            },
            "lists": {
                cl.list_id: cl.to_json(membership_count=counts[cl.list_id]) for cl in self.ordered_lists
            },
        }

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
- Every change goes through ``refresh``, which keeps the per-status index and the JSON cache right.
"""

from __future__ import annotations

import bisect
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


@dataclass
class AccountData:
    """Everything an account starts with; ``ids`` and ``rng`` continue where seeding stopped."""

    ids: UuidMinter
    rng: random.Random
    lists: list[ContactList] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)  # in creation order


class ConstantContactStore:
    def __init__(self, clock: Clock, data: AccountData) -> None:
        self.clock = clock
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
        for contact in data.contacts:
            self._append(contact)

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
        contact.list_memberships.clear()
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
        changed = merged != contact.list_memberships or contact.deleted
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
        contact.core_cache = None
        contact.fragments.clear()
        self.version += 1

    # -- internals -----------------------------------------------------------------------------------

    def _append(self, contact: Contact) -> None:
        contact.seq = len(self.contacts)
        self.contacts.append(contact)
        self._by_id[contact.contact_id] = contact
        if contact.email is not None:
            self._by_email[contact.email.address.casefold()] = contact
        contact.category = ""
        self.refresh(contact)
        contact_fragment(contact, ())  # pay for the JSON now rather than on the first listing

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

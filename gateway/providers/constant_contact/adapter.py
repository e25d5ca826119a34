"""Constant Contact as a ``DeletedContactsPort``.

What the v3 API can and cannot do shapes this adapter:

- Listing: ``GET /contacts?status=deleted`` pages of up to 500.  Only an exact ``email`` is pushed
  down as such; day ranges are pushed down as safe *supersets* (``created_after/before`` one day wider,
  ``updated_after`` for deletions, because a delete bumps ``updated_at``) and then applied exactly by
  the gateway.  Reasons and campaigns do not exist here.
- Lookups by id or email: one ``GET`` per key, or one full listing of the deleted contacts, whichever
  costs fewer requests.  The number of listing pages is known from the last listing (``include_count``).
  Only records holding exactly the address asked for are returned, whatever the API answered.
- Contact ids are UUIDs; an address belongs to at most one contact of the account, deleted or not.
- Delete/restore: one contact uses ``DELETE`` / ``PUT``; several use one bulk activity per 500
  (``contact_delete`` / ``add_list_memberships``), reported as PENDING with the activity's progress, or
  waited for (bounded) when the caller asks.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from gateway.core.filters import DeletedContactFilter
from gateway.core.gathering import gather_settled
from gateway.core.model import DeletedContact, ListedContact, Provider
from gateway.core.ports import (
    BulkProgress,
    ContactIdForm,
    OperationOutcome,
    OutcomeStatus,
    ProviderHealth,
    ResolvedContact,
    RestoreOptions,
    Target,
)
from gateway.core.references import holds_address, records_by_address
from gateway.providers.errors import NotFound, ProviderError

from .client import ConstantContactClient
from .mapping import from_listing_entry, listed_contact, to_deleted_contact
from .records import Activity, ContactList

__all__ = ["ConstantContactAdapter"]

PAGE_SIZE = 500
BULK_CHUNK = 500
WAIT_TIMEOUT_SECONDS = 60.0


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _midnight(day: date, shift_days: int) -> datetime:
    """Midnight (UTC) ``shift_days`` from ``day``; the widened bound stops at the calendar's edge
    rather than overflowing (the gateway refuses such days, but a configured range may allow them)."""
    try:
        shifted = day + timedelta(days=shift_days)
    except OverflowError:
        shifted = date.max if shift_days > 0 else date.min
    return datetime.combine(shifted, time.min, tzinfo=UTC)


class ConstantContactAdapter:
    provider = Provider.CONSTANT_CONTACT
    contact_id_form = ContactIdForm(_UUID, 36, "UUIDs (8-4-4-4-12 hexadecimal digits)")

    def __init__(self, client: ConstantContactClient, *, wait_timeout: float = WAIT_TIMEOUT_SECONDS) -> None:
        self.client = client
        self._wait_timeout = wait_timeout
        self._deleted_count: int | None = None
        self._activity_kinds: dict[str, str] = {}

    # -- reading -------------------------------------------------------------------------------

    async def list_deleted(self, query: DeletedContactFilter) -> list[ListedContact]:
        equalities = [c.value for c in query.email if c.is_plain_equality]
        params: dict[str, Any] = {}
        # A blank address is never pushed down: the API's reading of an empty ``email=`` is not
        # documented (it may mean "no filter"), and the gateway's own check answers it exactly.
        if len(set(map(str.lower, equalities))) == 1 and equalities[0].strip():
            params["email"] = equalities[0]
        if query.created.start:
            params["created_after"] = _midnight(query.created.start, -1)
        if query.created.end:
            params["created_before"] = _midnight(query.created.end, 2)
        if query.deleted.start:
            params["updated_after"] = _midnight(query.deleted.start, -1)
        found = await self._deleted(**params)
        if not params:
            self._deleted_count = len(found)
        return found

    async def _deleted(self, **params: Any) -> list[ListedContact]:
        found: list[ListedContact] = []
        async for page in self.client.iter_contact_entries(status=("deleted",), limit=PAGE_SIZE, **params):
            found.extend(listed for listed in map(listed_contact, page.entries) if listed is not None)
        return found

    def listing_cost(self) -> int:
        """Requests one full listing of the deleted contacts costs (as of the last listing)."""
        return max(1, math.ceil((self._deleted_count or 0) / PAGE_SIZE))

    async def _all_deleted(self) -> list[ListedContact]:
        found = await self._deleted()
        self._deleted_count = len(found)
        return found

    async def get_deleted(self, contact_ids: Sequence[str]) -> list[DeletedContact | None]:
        if len(contact_ids) <= self.listing_cost():
            return await gather_settled(self._get_one(i) for i in contact_ids)
        index = {listed.contact_id: listed for listed in await self._all_deleted()}
        return [index[i].contact if i in index else None for i in contact_ids]

    async def _get_one(self, contact_id: str) -> DeletedContact | None:
        try:
            return to_deleted_contact(await self.client.get_contact(contact_id, include=()))
        except NotFound:
            return None

    async def find_deleted_by_email(self, emails: Sequence[str]) -> list[list[DeletedContact]]:
        asked = [email for email in emails if email.strip()]  # no contact holds a blank address
        if len(asked) <= self.listing_cost():
            answers = await gather_settled(self._deleted(email=e) for e in asked)
            return records_by_address(emails, asked, answers)
        by_email: dict[str, list[DeletedContact]] = {}
        for listed in await self._all_deleted():
            contact = listed.contact
            by_email.setdefault(contact.email.casefold(), []).append(contact)
        return [by_email.get(email.casefold(), []) if email.strip() else [] for email in emails]

    async def contact_lists(self) -> list[ContactList]:
        return await self.client.list_contact_lists()

    # -- writing -------------------------------------------------------------------------------

    def scope_of(self, contact: DeletedContact) -> str | None:
        return None  # one contact per address in the whole account

    async def resolve_active(
        self, targets: Sequence[Target]
    ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
        """An id names itself; an address the active contact that holds exactly it (checked here:
        the API's answer to an address query is never trusted to be only that address)."""
        by_email = [t for t in targets if t.contact_id is None and t.email and t.email.strip()]
        found = await asyncio.gather(
            *(self.client.find_contacts_by_email(t.email or "", status=("all",)) for t in by_email),
            return_exceptions=True,
        )
        resolved = [ResolvedContact(t, t.contact_id) for t in targets if t.contact_id is not None]
        failed: list[OperationOutcome] = []
        for target, answer in zip(by_email, found, strict=True):
            if isinstance(answer, ProviderError):
                failed.append(OperationOutcome.failed(target, answer))
            elif isinstance(answer, BaseException):
                raise answer
            else:
                resolved.extend(
                    ResolvedContact(target, c.contact_id, c.email_address.address)
                    for c in answer
                    if c.deleted_at is None
                    and c.email_address is not None
                    and holds_address(c.email_address.address, target.email)
                )
        return resolved, failed

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        if len(contacts) == 1:
            (contact,) = contacts
            try:
                await self.client.delete_contact(contact.contact_id)
            except ProviderError as error:
                return [OperationOutcome.failed(contact.target, error, contact.contact_id)]
            return [
                OperationOutcome(contact.target, OutcomeStatus.DONE, contact.contact_id, contact.target.email)
            ]
        if not contacts:
            return []
        pairs = [(c.target, c.contact_id) for c in contacts]
        activities = await self.client.start_bulk_delete([c.contact_id for c in contacts])
        return await self._bulk_outcomes(pairs, activities, "contact_delete", wait)

    async def restore(
        self, contacts: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]:
        list_ids = options.constant_contact_list_ids
        if not list_ids:
            return [
                OperationOutcome(
                    t,
                    OutcomeStatus.FAILED,
                    c.contact_id,
                    c.email,
                    "Constant Contact restores need constantContactListIds (at least one list)",
                    "LIST_IDS_REQUIRED",
                    contact=c,
                )
                for t, c in contacts
            ]
        if len(contacts) == 1:
            target, contact = contacts[0]
            try:
                await self.client.restore_contact(contact.contact_id, list_ids)
            except ProviderError as error:
                return [OperationOutcome.failed(target, error, contact.contact_id, contact)]
            return [
                OperationOutcome(
                    target, OutcomeStatus.DONE, contact.contact_id, contact.email, contact=contact
                )
            ]
        pairs = [(t, c.contact_id) for t, c in contacts]
        activities = await self.client.start_bulk_restore([c.contact_id for _, c in contacts], list_ids)
        records = {c.contact_id: c for _, c in contacts}
        outcomes = await self._bulk_outcomes(
            pairs, activities, "add_list_memberships", options.wait_for_completion
        )
        return [
            OperationOutcome(
                o.target,
                o.status,
                o.contact_id,
                records[o.contact_id or ""].email,
                o.message,
                o.code,
                o.bulk_operation,
                records.get(o.contact_id or ""),
            )
            for o in outcomes
        ]

    async def _bulk_outcomes(
        self, pairs: Sequence[tuple[Target, str]], activities: Sequence[Activity], kind: str, wait: bool
    ) -> list[OperationOutcome]:
        for activity in activities:
            self._activity_kinds[activity.activity_id] = kind
        if wait:
            activities = await self.client.wait_for_activities(
                [a.activity_id for a in activities], timeout=self._wait_timeout
            )
        outcomes = []
        for position, (target, contact_id) in enumerate(pairs):
            activity = activities[position // BULK_CHUNK]
            status = OutcomeStatus.PENDING
            message = None
            if activity.done:
                failed = activity.state != "completed" or any(
                    contact_id in e for e in activity.activity_errors
                )
                status = OutcomeStatus.FAILED if failed else OutcomeStatus.DONE
                message = f"activity {activity.state}" if failed else None
            outcomes.append(
                OperationOutcome(
                    target,
                    status,
                    contact_id,
                    target.email,
                    message,
                    "BULK_ITEM_FAILED" if status is OutcomeStatus.FAILED else None,
                    self._progress(activity),
                )
            )
        return outcomes

    def _progress(self, activity: Activity) -> BulkProgress:
        return BulkProgress(
            operation_id=activity.activity_id,
            provider=self.provider,
            kind=self._activity_kinds.get(activity.activity_id, "activity"),
            state=activity.state,
            percent_done=activity.percent_done,
            items_total=activity.items_total_count,
            items_completed=activity.items_completed_count,
            errors=activity.activity_errors,
            created_at=activity.created_at,
            completed_at=activity.completed_at,
        )

    async def bulk_progress(self, operation_id: str) -> BulkProgress:
        return self._progress(await self.client.get_activity(operation_id))

    # -- health and snapshots ------------------------------------------------------------------

    def health(self) -> ProviderHealth:
        breaker = self.client.breaker
        budget = self.client.allowance
        problems = breaker.problems()
        if budget.remaining <= 0:
            problems.append("daily request budget spent")
        return ProviderHealth(
            provider=self.provider,
            configured=True,
            healthy=not problems,
            problems=tuple(problems),
            circuit_state=breaker.state,
            budget_remaining=budget.remaining,
            budget_limit=budget.limit,
            budget_resets_at=budget.reset_at,
            rate_per_second=budget.rate,
        )

    def snapshot_entry(self, contact: DeletedContact) -> Any:
        return contact.raw

    def from_snapshot_entry(self, entry: Any) -> DeletedContact:
        return from_listing_entry(entry)

    async def aclose(self) -> None:
        await self.client.aclose()

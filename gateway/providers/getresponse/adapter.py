"""GetResponse 1.5 as a ``DeletedContactsPort``.

Everything this adapter needs from one question goes out as ONE JSON-RPC batch (one HTTP request):

- ``get_contacts_deleted`` evaluates campaigns, messages, email operators, reason and day ranges
  itself, so all of them are pushed down.  Limits of the API: one reason per call (several reasons ->
  one call per reason in the same batch, when a sub-reason is among them; otherwise the general reasons
  are filtered in the gateway) and one condition per text operator (the rest are applied locally).
- A deletion is *superseded* when the same address is active again in the same campaign (it was
  restored, or re-subscribed): the person is no longer "deleted" there, so such records are not listed.
  The active contacts come from ``get_contacts`` calls riding in the same batch.
- Contact ids are short alphanumeric strings.  An address is one contact per campaign, so a lookup
  by address may rightly answer several (one per campaign); only records holding exactly the address
  asked for are used, whatever the API answered.
- Restore has no API of its own: ``add_contact`` to the deletion's campaign (or the one the caller
  names).  GetResponse queues it (double opt-in may send a confirmation email), so the outcome is
  PENDING until the contact is confirmed; ``add_contact`` is never retried blindly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from gateway.core.afterwards import release_later
from gateway.core.filters import DeletedContactFilter
from gateway.core.model import DeletedContact, ListedContact, Provider, ReasonFilter
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

from .client import GetResponseClient, RpcCall
from .conditions import DayRange, DeletedContactsQuery, TextCondition
from .mapping import from_listing_entry, listed_deletions
from .records import Campaign, Contact, Message, memberships, read_memberships
from .records import DeletedContact as DeletedRecord

__all__ = ["GetResponseAdapter"]

# GetResponse documents its ids only as short opaque strings (examples have 3 to 5 letters and
# digits); 32 leaves room for longer ones without letting an arbitrary string through.
_CONTACT_ID = re.compile(r"[A-Za-z0-9]+")
_QUEUED_MESSAGE = "queued at GetResponse; the contact is active once confirmed (double opt-in may email them)"


def _day_range(core_range: Any) -> DayRange | None:
    if core_range.is_open:
        return None
    return DayRange(from_day=core_range.start, to_day=core_range.end)


def _text(condition: Any) -> TextCondition | None:
    return TextCondition(condition.operator.value, condition.value) if condition is not None else None


class GetResponseAdapter:
    provider = Provider.GETRESPONSE
    contact_id_form = ContactIdForm(_CONTACT_ID, 32, "short strings of letters and digits")

    def __init__(self, client: GetResponseClient) -> None:
        self.client = client

    # -- building calls ------------------------------------------------------------------------

    @staticmethod
    def _deleted_queries(query: DeletedContactFilter) -> list[DeletedContactsQuery]:
        # The 1.5 documentation writes a text condition as one operator (several operators in one
        # object are documented for dates only), so one email condition goes upstream; core applies
        # every condition of the filter to what comes back, the others included.  A blank EQUALS is
        # never sent: what GetResponse does with it is not documented.
        sendable = [c for c in query.email if not (c.operator.value == "EQUALS" and not c.value.strip())]
        email = [TextCondition(c.operator.value, c.value) for c in sendable[:1]]
        base = DeletedContactsQuery(
            campaign_ids=query.campaign_ids,
            campaign_name=_text(query.campaign_name),
            message_ids=query.message_ids,
            message_name=_text(query.message_name),
            email=tuple(email),
            created_on=_day_range(query.created),
            deleted_on=_day_range(query.deleted),
        )
        # UNKNOWN is never recorded by GetResponse (and is not a reason it accepts).
        reasons = sorted(r.value for r in query.reasons if r is not ReasonFilter.UNKNOWN)
        if len(reasons) == 1 or query.has_specific_reasons:
            return [replace(base, reason=reason) for reason in reasons]
        return [base]

    @staticmethod
    def _active_call(query: DeletedContactsQuery) -> RpcCall:
        """The active contacts that could supersede the deletions ``query`` finds (only their addresses
        and campaigns are decoded: ``read_memberships``)."""
        params: dict[str, Any] = {}
        deleted_params = query.to_params()
        for key in ("campaigns", "get_campaigns", "email"):
            if key in deleted_params:
                params[key] = deleted_params[key]
        return RpcCall("get_contacts", params, read=read_memberships)

    async def _deleted_batch(self, queries: Sequence[DeletedContactsQuery]) -> list[list[ListedContact]]:
        """Run the queries and the matching active-contact lookups in one batch; drop superseded records."""
        calls = [RpcCall("get_contacts_deleted", q.to_params()) for q in queries]
        calls += [self._active_call(q) for q in queries]
        answers = await self.client.batch(calls)
        for answer in answers:
            if isinstance(answer, ProviderError):
                raise answer
        count = len(queries)
        superseded = [memberships(active_raw) for active_raw in answers[count:]]
        listed = [
            listed_deletions(deleted_raw, active)
            for deleted_raw, active in zip(answers[:count], superseded, strict=True)
        ]
        release_later(answers, superseded)  # most of the answer (the active contacts) is freed later
        return listed

    # -- reading -------------------------------------------------------------------------------

    async def list_deleted(self, query: DeletedContactFilter) -> list[ListedContact]:
        answers = await self._deleted_batch(self._deleted_queries(query))
        if len(answers) == 1:
            return answers[0]
        unique: dict[str, ListedContact] = {}
        for answer in answers:
            for listed in answer:
                unique.setdefault(listed.contact_id, listed)
        return list(unique.values())

    def listing_cost(self) -> int:
        return 1  # one JSON-RPC batch, however many deletions the account holds

    async def get_deleted(self, contact_ids: Sequence[str]) -> list[DeletedContact | None]:
        # get_contacts_deleted cannot filter by contact id: one unfiltered call answers every id.
        (everything,) = await self._deleted_batch([DeletedContactsQuery()])
        index = {listed.contact_id: listed for listed in everything}
        return [index[i].contact if i in index else None for i in contact_ids]

    async def find_deleted_by_email(self, emails: Sequence[str]) -> list[list[DeletedContact]]:
        asked = [email for email in emails if email.strip()]  # no contact holds a blank address
        if not asked:
            return [[] for _ in emails]
        queries = [DeletedContactsQuery(email=(TextCondition("EQUALS", email),)) for email in asked]
        answers = await self._deleted_batch(queries)
        return records_by_address(emails, asked, answers)

    async def campaigns(self) -> list[Campaign]:
        return await self.client.get_campaigns()

    async def catalog_by_ids(
        self, campaign_ids: Sequence[str], message_ids: Sequence[str]
    ) -> tuple[dict[str, Campaign], dict[str, Message]]:
        """Campaigns and messages by id, in one request."""
        return await self.client.get_catalog_by_ids(campaign_ids, message_ids)

    # -- writing -------------------------------------------------------------------------------

    def scope_of(self, contact: DeletedContact) -> str | None:
        record: DeletedRecord = contact.source
        return record.campaign_id  # an address is one contact per campaign

    async def resolve_active(
        self, targets: Sequence[Target]
    ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
        """An id names itself; an address every active contact holding exactly it (one per campaign),
        checked here rather than trusted to the API's answer."""
        resolved = [ResolvedContact(t, t.contact_id) for t in targets if t.contact_id is not None]
        by_email = [t for t in targets if t.contact_id is None and t.email and t.email.strip()]
        if not by_email:
            return resolved, []
        lookups = await self.client.batch(
            [RpcCall("get_contacts", {"email": {"EQUALS": t.email}}) for t in by_email]
        )
        failed: list[OperationOutcome] = []
        for target, answer in zip(by_email, lookups, strict=True):
            if isinstance(answer, ProviderError):
                failed.append(OperationOutcome.failed(target, answer))
                continue
            resolved.extend(
                ResolvedContact(target, c.contact_id, c.email, c.campaign_id)
                for c in Contact.parse_map(answer)
                if holds_address(c.email, target.email)
            )
        return resolved, failed

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        if not contacts:
            return []
        answers = await self.client.delete_contacts([c.contact_id for c in contacts])
        outcomes = []
        for contact, answer in zip(contacts, answers, strict=True):
            if isinstance(answer, ProviderError):
                outcomes.append(OperationOutcome.failed(contact.target, answer, contact.contact_id))
            else:
                outcomes.append(
                    OperationOutcome(
                        contact.target, OutcomeStatus.DONE, contact.contact_id, contact.target.email
                    )
                )
        return outcomes

    async def restore(
        self, contacts: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]:
        calls = []
        for _, contact in contacts:
            record: DeletedRecord = contact.source
            params: dict[str, Any] = {
                "campaign": options.getresponse_campaign_id or record.campaign_id,
                "email": contact.email,
            }
            if contact.name:
                params["name"] = contact.name
            if record.cycle_day is not None:
                params["cycle_day"] = record.cycle_day
            calls.append(RpcCall("add_contact", params, idempotent=False))
        answers = await self.client.batch(calls)
        outcomes = []
        for (target, contact), answer in zip(contacts, answers, strict=True):
            if isinstance(answer, ProviderError):
                outcomes.append(OperationOutcome.failed(target, answer, contact.contact_id, contact))
            else:
                outcomes.append(
                    OperationOutcome(
                        target,
                        OutcomeStatus.PENDING,
                        contact.contact_id,
                        contact.email,
                        _QUEUED_MESSAGE,
                        contact=contact,
                    )
                )
        return outcomes

    async def bulk_progress(self, operation_id: str) -> BulkProgress:
        raise NotFound("GetResponse has no bulk operations", provider=Provider.GETRESPONSE)

    # -- health and snapshots ------------------------------------------------------------------

    def health(self) -> ProviderHealth:
        breaker = self.client.breaker
        problems = tuple(breaker.problems())
        return ProviderHealth(
            provider=self.provider,
            configured=True,
            healthy=not problems,
            circuit_state=breaker.state,
            problems=problems,
        )

    def snapshot_entry(self, contact: DeletedContact) -> Any:
        return [contact.contact_id, contact.raw]

    def from_snapshot_entry(self, entry: Any) -> DeletedContact:
        return from_listing_entry(entry)

    async def aclose(self) -> None:
        await self.client.aclose()

"""An in-memory DeletedContactsPort: the schema's contract tested without any provider."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from gateway.core.filters import DeletedContactFilter
from gateway.core.model import DeletedContact, DeletionReason, ListedContact, Provider
from gateway.core.ordering import sort_key
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
from gateway.errors import GatewayError
from gateway.providers.constant_contact.adapter import ConstantContactAdapter
from gateway.providers.getresponse.adapter import GetResponseAdapter

_ID_FORMS = {
    Provider.CONSTANT_CONTACT: ConstantContactAdapter.contact_id_form,
    Provider.GETRESPONSE: GetResponseAdapter.contact_id_form,
}


def fake_id(provider: Provider, n: int) -> str:
    """The id of the ``n``th fake contact, in its provider's form (a UUID at Constant Contact)."""
    if provider is Provider.CONSTANT_CONTACT:
        return f"00000000-0000-4000-8000-{n:012d}"
    return f"ge{n:04d}"


def make_contact(
    provider: Provider, n: int, *, reason: DeletionReason = DeletionReason.API, blocked: str | None = None
) -> DeletedContact:
    day = date(2024, 1, 1 + n % 28)
    if provider is Provider.GETRESPONSE:
        source = SimpleNamespace(
            campaign_id="camp1",
            message_id=None if n % 3 == 0 else "msg1",
            origin="api",
            ip="1.1.1.1",
            cycle_day=n,
        )
        deleted_at: datetime | None = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    else:
        address = SimpleNamespace(
            permission_to_send="implicit", opt_in_source="Account", opt_in_date=None, confirm_status="off"
        )
        source = SimpleNamespace(
            email_address=address,
            first_name="Ann",
            last_name=f"N{n}",
            job_title=None,
            company_name=None,
            create_source="Account",
            update_source="Account",
            updated_at=None,
        )
        deleted_at = None
    return DeletedContact(
        provider=provider,
        contact_id=fake_id(provider, n),
        email=f"person{n}@example.com",
        name=f"Person {n}",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
        deleted_on=day,
        deleted_at=deleted_at,
        reason=reason,
        restore_blocked_by=blocked,
        raw={"n": n},
        source=source,
    )


class FakePort:
    def __init__(self, provider: Provider, contacts: Sequence[DeletedContact]) -> None:
        self.provider = provider
        self.contacts = {c.contact_id: c for c in contacts}
        self.failure: GatewayError | None = None
        self.crash: Exception | None = None
        self.calls: list[str] = []
        self.restored: list[str] = []
        self.deleted: list[str] = []
        self.active: dict[str, list[tuple[str, str | None]]] = {}
        """Active contacts by lower-cased address: (contact id, scope) each."""
        self.cost = 5
        self.contact_id_form: ContactIdForm = _ID_FORMS[provider]

    def _check(self, name: str) -> None:
        self.calls.append(name)
        if self.crash is not None:
            raise self.crash
        if self.failure is not None:
            raise self.failure

    async def list_deleted(self, query: DeletedContactFilter) -> list[ListedContact]:
        self._check("list_deleted")
        return [
            ListedContact.of_contact(sort_key(c), self.snapshot_entry(c), c) for c in self.contacts.values()
        ]

    def listing_cost(self) -> int:
        return self.cost

    async def get_deleted(self, contact_ids: Sequence[str]) -> list[DeletedContact | None]:
        self._check("get_deleted")
        return [self.contacts.get(i) for i in contact_ids]

    async def find_deleted_by_email(self, emails: Sequence[str]) -> list[list[DeletedContact]]:
        self._check("find_deleted_by_email")
        return [[c for c in self.contacts.values() if c.email.lower() == e.lower()] for e in emails]

    def scope_of(self, contact: DeletedContact) -> str | None:
        return contact.source.campaign_id if self.provider is Provider.GETRESPONSE else None

    async def resolve_active(
        self, targets: Sequence[Target]
    ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
        self._check("resolve_active")
        resolved = [ResolvedContact(t, t.contact_id) for t in targets if t.contact_id is not None]
        for target in targets:
            if target.email is not None:
                for contact_id, scope in self.active.get(target.email.lower(), []):
                    resolved.append(ResolvedContact(target, contact_id, target.email, scope))
        return resolved, []

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        self._check("delete")
        self.deleted += [c.contact_id for c in contacts]
        return [
            OperationOutcome(c.target, OutcomeStatus.DONE, c.contact_id, c.target.email) for c in contacts
        ]

    async def restore(
        self, contacts: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]:
        self._check("restore")
        self.restored += [c.contact_id for _, c in contacts]
        return [
            OperationOutcome(t, OutcomeStatus.DONE, c.contact_id, c.email, contact=c) for t, c in contacts
        ]

    async def bulk_progress(self, operation_id: str) -> BulkProgress:
        self._check("bulk_progress")
        return BulkProgress(
            operation_id, self.provider, "contact_delete", "completed", 100, 2, 2, (), None, None
        )

    def health(self) -> ProviderHealth:
        return ProviderHealth(self.provider, configured=True, healthy=True, circuit_state="closed")

    def snapshot_entry(self, contact: DeletedContact) -> Any:
        return contact.contact_id

    def from_snapshot_entry(self, entry: Any) -> DeletedContact:
        return self.contacts[entry]

    async def catalog_by_ids(self, campaign_ids: Sequence[str], message_ids: Sequence[str]) -> Any:
        self.calls.append("catalog_by_ids")
        campaigns = {
            i: SimpleNamespace(
                campaign_id=i,
                name=f"campaign {i}",
                description=None,
                is_default=False,
                optin="double",
                from_email=None,
                created_on=None,
            )
            for i in campaign_ids
        }
        messages = {
            i: SimpleNamespace(
                message_id=i,
                campaign_id="camp1",
                type="newsletter",
                subject=f"about {i}",
                name=None,
                created_on=None,
            )
            for i in message_ids
        }
        return campaigns, messages

    async def aclose(self) -> None:
        pass

"""The port every provider adapter implements; the GraphQL layer talks to nothing else.

Adapters push down what their provider evaluates exactly and may return a superset: the caller always
applies :meth:`DeletedContactFilter.matches` afterwards, so pushing down a condition or not never
changes the answer.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.errors import GatewayError

from .filters import DeletedContactFilter
from .model import DeletedContact, ListedContact, Provider

__all__ = [
    "BulkProgress",
    "CampaignCatalogPort",
    "CampaignRecord",
    "ContactIdForm",
    "ContactListRecord",
    "ContactListsPort",
    "DeletedContactsPort",
    "MessageRecord",
    "OperationOutcome",
    "OutcomeStatus",
    "ProviderHealth",
    "ResolvedContact",
    "RestoreOptions",
    "Target",
]


class OutcomeStatus(enum.Enum):
    DONE = "done"
    """The provider applied the change."""
    PENDING = "pending"
    """Accepted; it completes later (a Constant Contact bulk activity, a queued GetResponse add)."""
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not attempted: blocked by policy, not found, or a dry run."""


@dataclass(frozen=True, slots=True)
class Target:
    """One contact a mutation should act on, as the caller named it."""

    index: int
    provider: Provider
    contact_id: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class ContactIdForm:
    """What a provider's contact ids look like; a reference's id of another form is refused unsent.

    ``pattern`` must match the whole id; ``max_length`` bounds it before the pattern is tried.
    """

    pattern: re.Pattern[str]
    max_length: int
    description: str
    """Said to the caller when an id does not fit, e.g. "UUIDs (8-4-4-4-12 hexadecimal digits)"."""

    def accepts(self, contact_id: str) -> bool:
        return len(contact_id) <= self.max_length and self.pattern.fullmatch(contact_id) is not None


@dataclass(frozen=True, slots=True)
class ResolvedContact:
    """An active contact a delete target resolved to, before anything is written.

    ``email`` is the address the provider holds for it (None when the target gave the id and no
    lookup was needed); ``scope`` is the part of the account within which an address names at most
    one contact (a GetResponse campaign; None where the whole account is that part).
    """

    target: Target
    contact_id: str
    email: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class BulkProgress:
    operation_id: str
    provider: Provider
    kind: str
    state: str
    percent_done: int | None
    items_total: int | None
    items_completed: int | None
    errors: tuple[str, ...]
    created_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OperationOutcome:
    target: Target
    status: OutcomeStatus
    contact_id: str | None = None
    email: str | None = None
    message: str | None = None
    code: str | None = None
    bulk_operation: BulkProgress | None = None
    contact: DeletedContact | None = None

    @classmethod
    def failed(
        cls,
        target: Target,
        error: GatewayError,
        contact_id: str | None = None,
        contact: DeletedContact | None = None,
    ) -> OperationOutcome:
        """``target`` failed with ``error`` (its message and code are written for the caller)."""
        return cls(
            target,
            OutcomeStatus.FAILED,
            contact_id or target.contact_id,
            target.email,
            error.message,
            error.code,
            contact=contact,
        )


@dataclass(frozen=True, slots=True)
class RestoreOptions:
    constant_contact_list_ids: tuple[str, ...] = ()
    getresponse_campaign_id: str | None = None
    dry_run: bool = False
    wait_for_completion: bool = False


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    provider: Provider
    configured: bool
    healthy: bool
    circuit_state: str
    budget_remaining: int | None = None
    budget_limit: int | None = None
    budget_resets_at: datetime | None = None
    rate_per_second: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    """Why the provider cannot be used now (empty when healthy): readiness reports them."""


class DeletedContactsPort(Protocol):
    provider: Provider
    contact_id_form: ContactIdForm
    """The form of this provider's contact ids (references with another form are refused unsent)."""

    async def list_deleted(self, query: DeletedContactFilter) -> list[ListedContact]:
        """Every deleted contact that may match (a superset is fine), checked and with its merge-order
        key; the full contacts are mapped only when read (``ListedContact.contact``)."""
        ...

    def listing_cost(self) -> int:
        """HTTP requests an unfiltered :meth:`list_deleted` costs, as far as the adapter knows.

        Loaders read the whole listing instead of asking id by id when it is no more expensive.
        """
        ...

    async def get_deleted(self, contact_ids: Sequence[str]) -> list[DeletedContact | None]:
        """The deleted contacts with these ids, in order; None where the id is not a deleted contact."""
        ...

    async def find_deleted_by_email(self, emails: Sequence[str]) -> list[list[DeletedContact]]:
        """For each address (case-insensitive), every deleted record of it, in order."""
        ...

    def scope_of(self, contact: DeletedContact) -> str | None:
        """The part of the account within which ``contact``'s address names one deleted record (see
        :attr:`ResolvedContact.scope`)."""
        ...

    async def resolve_active(
        self, targets: Sequence[Target]
    ) -> tuple[list[ResolvedContact], list[OperationOutcome]]:
        """The active contacts the targets name, for a delete, and a FAILED outcome per target whose
        lookup failed.  An id names itself (no lookup); an address names every active contact that
        holds exactly that address (compared case-insensitively), and nothing else is returned."""
        ...

    async def delete(
        self, contacts: Sequence[ResolvedContact], *, wait: bool = False
    ) -> list[OperationOutcome]:
        """Delete each resolved contact, one outcome each; several at once use the bulk path."""
        ...

    async def restore(
        self, contacts: Sequence[tuple[Target, DeletedContact]], options: RestoreOptions
    ) -> list[OperationOutcome]: ...

    async def bulk_progress(self, operation_id: str) -> BulkProgress: ...

    def health(self) -> ProviderHealth: ...

    def snapshot_entry(self, contact: DeletedContact) -> Any:
        """A JSON-able form of ``contact`` that :meth:`from_snapshot_entry` turns back into it (the
        same form as the ``entry`` of the contacts :meth:`list_deleted` returns)."""
        ...

    def from_snapshot_entry(self, entry: Any) -> DeletedContact: ...

    async def aclose(self) -> None: ...


class CampaignRecord(Protocol):
    """A GetResponse campaign, as the GraphQL layer reads it."""

    @property
    def campaign_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def is_default(self) -> bool: ...
    @property
    def optin(self) -> str | None: ...
    @property
    def from_email(self) -> str | None: ...
    @property
    def created_on(self) -> datetime | None: ...


class MessageRecord(Protocol):
    """A GetResponse message, as the GraphQL layer reads it."""

    @property
    def message_id(self) -> str: ...
    @property
    def campaign_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def created_on(self) -> datetime | None: ...


class CampaignCatalogPort(Protocol):
    """GetResponse's campaigns and messages (the names and subjects deleted contacts point to)."""

    async def campaigns(self) -> Sequence[CampaignRecord]: ...

    async def catalog_by_ids(
        self, campaign_ids: Sequence[str], message_ids: Sequence[str]
    ) -> tuple[Mapping[str, CampaignRecord], Mapping[str, MessageRecord]]:
        """Campaigns and messages by id, in one request; an unknown id is simply absent."""
        ...


class ContactListRecord(Protocol):
    """A Constant Contact list, as the GraphQL layer reads it."""

    @property
    def list_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def membership_count(self) -> int | None: ...
    @property
    def created_at(self) -> datetime | None: ...


class ContactListsPort(Protocol):
    """Constant Contact's contact lists (the targets of a restore there)."""

    async def contact_lists(self) -> Sequence[ContactListRecord]: ...

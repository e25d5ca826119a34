"""The port every provider adapter implements; the GraphQL layer talks to nothing else.

Adapters push down what their provider evaluates exactly and may return a superset: the caller always
applies :meth:`DeletedContactFilter.matches` afterwards, so pushing down a condition or not never
changes the answer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.errors import GatewayError

from .filters import DeletedContactFilter
from .model import DeletedContact, ListedContact, Provider

__all__ = [
    "BulkProgress",
    "DeletedContactsPort",
    "OperationOutcome",
    "OutcomeStatus",
    "ProviderHealth",
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


class DeletedContactsPort(Protocol):
    provider: Provider

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

    async def delete(self, targets: Sequence[Target], *, wait: bool = False) -> list[OperationOutcome]:
        """Delete each target (by contact id or email); several at once use the provider's bulk path."""
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

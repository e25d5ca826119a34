"""The gateway's long-lived parts, built once at start-up and shared by every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from .actions import ContactActions
from .answer_cache import AnswerCache
from .audit_memory import MemoryAuditTrail
from .batch_watch import BatchWatch
from .budgets import PrincipalBudgets
from .deleted_pages import IndexAccess
from .idempotency import MemoryIdempotencyStore
from .index import SyncSource
from .input_limits import InputLimits
from .model import Provider
from .persisted_documents import MemoryPersistedDocuments, PersistedDocumentStore
from .ports import CampaignCatalogPort, ContactListsPort, DeletedContactsPort
from .shared_listings import SharedListings
from .snapshots import SnapshotStore
from .store_ports import AuditTrail, CredentialVerifier, PrincipalIdempotencyStore

if TYPE_CHECKING:  # the webhooks package builds on core; only its type is named here
    from gateway.webhooks.registry import WebhookRegistry

__all__ = ["Services"]


@dataclass
class Services:
    ports: Mapping[Provider, DeletedContactsPort]
    """The configured providers; a provider without credentials is simply absent."""
    snapshots: SnapshotStore
    listings: SharedListings = field(default_factory=SharedListings)
    """First-page listings shared by concurrent requests (and reused for a while, if configured)."""
    idempotency: PrincipalIdempotencyStore = field(default_factory=MemoryIdempotencyStore)
    """Results of mutations sent with an idempotency key, each principal's apart."""
    audit: AuditTrail = field(default_factory=MemoryAuditTrail)
    """Who did what to which contact (the application's is in its database; memory suits tests)."""
    audit_default_page_size: int = 50
    audit_max_page_size: int = 500
    credentials: tuple[CredentialVerifier, ...] = ()
    """What a bearer credential may be, asked in order: service keys, then OIDC access tokens (each
    answers None, without any I/O, for a credential not of its kind)."""
    budgets: PrincipalBudgets | None = None
    """Each principal's request rate and daily cost (None: unlimited, as in tests of other things)."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Other long-lived resources to close at shutdown (connections behind the verifiers)."""
    default_page_size: int = 50
    max_page_size: int = 500
    limits: InputLimits = field(default_factory=InputLimits)
    """Bounds on every caller-given value, checked before anything reaches a provider."""
    getresponse: CampaignCatalogPort | None = None
    """GetResponse's campaigns and messages (its adapter); None if unconfigured."""
    constant_contact: ContactListsPort | None = None
    """Constant Contact's lists (its adapter); None if unconfigured."""
    batch_watch: BatchWatch | None = None
    """Sees every DataLoader batch of a request (tracing); None: batches run unwatched."""
    persisted_documents: PersistedDocumentStore = field(default_factory=MemoryPersistedDocuments)
    """Documents registered through automatic persisted queries (the application's: its database)."""
    index: IndexAccess | None = None
    """The synced index of deleted contacts (None: every listing reads the providers)."""
    sync_sources: Mapping[Provider, SyncSource] = field(default_factory=dict)
    """What the sync reads of each configured provider (its write-through too)."""
    index_written: Callable[[set[Provider], datetime], Awaitable[None]] | None = None
    """Writes what a mutation changed at these providers since a moment into the index (write-through)."""
    webhooks: WebhookRegistry | None = None
    """Webhooks of the deletion feed (None without the index, whose sync finds the events)."""
    answers: AnswerCache | None = None
    """Answers the index gave, reused while it is unchanged (None: every query runs)."""

    @cached_property
    def actions(self) -> ContactActions:
        """Delete and restore over these ports, listings, idempotency store and audit trail."""
        return ContactActions(
            self.ports, self.listings, self.idempotency, self.limits, self.audit, written=self.index_written
        )

    async def aclose(self) -> None:
        for port in self.ports.values():
            await port.aclose()
        await self.snapshots.aclose()
        await self.idempotency.aclose()
        for close in self.closers:
            await close()
        await self.audit.aclose()
        await self.persisted_documents.aclose()

"""The tables of the gateway's own database, as SQLAlchemy 2 typed models.

Migrations (``gateway/store/migrations``) are the only way these tables come to exist or change; a test
upgrades an empty database and checks that it matches these models exactly.  The deleted-contact
index (``gateway.store.index``) and the sync's state and leases join the same ``Base``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiKey",
    "AuditRecord",
    "Base",
    "ContactEventRow",
    "DeletedContactRow",
    "GetResponseCampaign",
    "GetResponseMembership",
    "GetResponseMessage",
    "IdempotencyRecord",
    "PersistedQuery",
    "SyncLease",
    "SyncStateRow",
    "UTCDateTime",
    "WebhookDeliveryRow",
    "WebhookRow",
]

# Constraint names are spelled out so that every database gets the same ones and a later migration
# can drop or alter a constraint by name (SQLite has no names of its own to find).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, always timezone-aware UTC in Python.

    PostgreSQL keeps ``timestamptz`` and returns aware values; SQLite keeps text and returns naive
    ones, which could neither be compared with ``datetime.now(UTC)`` nor told apart from local time.
    Values are stored as naive UTC there and given their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """A service key.  The credential itself is never stored: only ``prefix`` (its public part, which
    finds the row) and the SHA-256 of the whole credential."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    prefix: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    """This key's own rate (``gateway.core.budgets``); NULL: the default."""
    daily_cost: Mapped[int | None] = mapped_column(Integer)
    """This key's own daily query cost; NULL: the default."""


class IdempotencyRecord(Base):
    """One idempotency key of one principal: claimed while its request runs, then its result.

    ``result`` is the recorded answer as JSON text, kept byte for byte as the mutation encoded it.
    """

    __tablename__ = "idempotency_records"

    principal: Mapped[str] = mapped_column(String(400), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditRecord(Base):
    """One row of the append-only audit trail (``gateway.core.audit.AuditEvent``): an intent, written
    before a contact is written upstream, or an outcome.  Rows are never updated; only retention
    deletes them.

    ``email_key`` is the address lower-cased, so that the case-insensitive filter uses an index.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at_id", "at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(32), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[str] = mapped_column(String(400), index=True)
    principal_name: Mapped[str] = mapped_column(String(400))
    operation: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str | None] = mapped_column(String(40))
    item_index: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[str | None] = mapped_column(String(400), index=True)
    email: Mapped[str | None] = mapped_column(String(400))
    email_key: Mapped[str | None] = mapped_column(String(400), index=True)
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(200))
    correlation_id: Mapped[str | None] = mapped_column(String(400))
    idempotency_key: Mapped[str | None] = mapped_column(String(400))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    replay: Mapped[bool] = mapped_column(Boolean)


class PersistedQuery(Base):
    """A document registered through Apollo's automatic persisted queries, found by its SHA-256."""

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeletedContactRow(Base):
    """One deleted contact of the synced index (``gateway.core.index.IndexedContact``).

    ``email_key`` and ``name_key`` are lower-cased in Python (SQLite's ``lower()`` folds ASCII only), so
    case-insensitive filters compare pre-lowered columns with a Python-lowered value.  ``order_day`` and
    ``order_moment`` are the merge-order key's first two parts (``ordering.order_key``), with a large
    finite stand-in for its "no time" infinity; with ``provider`` and ``contact_id`` they make the
    composite index a page is one range scan of.  ``entry`` is the adapter's snapshot entry as JSON
    text and ``digest`` a hash of the whole row's content, which tells a changed row from a resent one.
    ``superseded`` marks a GetResponse deletion whose address is active again in the same campaign.
    """

    __tablename__ = "deleted_contacts"
    __table_args__ = (
        Index("ix_deleted_contacts_order", "order_day", "order_moment", "provider", "contact_id"),
        Index("ix_deleted_contacts_provider_seen_run", "provider", "seen_run"),
        Index("ix_deleted_contacts_provider_email_key_campaign_id", "provider", "email_key", "campaign_id"),
        # CONTAINS filters at scale: a trigram index on PostgreSQL (the migration adds pg_trgm); on
        # SQLite the migration makes it a partial index that holds no row.
        Index(
            "ix_deleted_contacts_email_key_trgm",
            "email_key",
            postgresql_using="gin",
            postgresql_ops={"email_key": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
    )

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str] = mapped_column(String(400))
    email_key: Mapped[str] = mapped_column(String(400), index=True)
    name: Mapped[str | None] = mapped_column(String(400))
    name_key: Mapped[str] = mapped_column(String(400))
    created_on: Mapped[date | None] = mapped_column(Date)
    deleted_on: Mapped[date] = mapped_column(Date)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(40))
    sub_reason: Mapped[str | None] = mapped_column(String(80))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    order_day: Mapped[int] = mapped_column(Integer)
    order_moment: Mapped[float] = mapped_column(Float)
    superseded: Mapped[bool] = mapped_column(Boolean)
    seen_run: Mapped[str | None] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GetResponseMembership(Base):
    """An active GetResponse contact, as far as the superseded-deletion rule needs it."""

    __tablename__ = "getresponse_memberships"
    __table_args__ = (Index("ix_getresponse_memberships_email_key_campaign_id", "email_key", "campaign_id"),)

    contact_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email_key: Mapped[str] = mapped_column(String(400))
    campaign_id: Mapped[str] = mapped_column(String(200))
    seen_run: Mapped[str | None] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GetResponseCampaign(Base):
    """A GetResponse campaign's name (the campaign-name filter)."""

    __tablename__ = "getresponse_campaigns"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    name_key: Mapped[str] = mapped_column(String(400))


class GetResponseMessage(Base):
    """A GetResponse message's name and type (the message-name filter)."""

    __tablename__ = "getresponse_messages"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    name_key: Mapped[str | None] = mapped_column(String(400))
    type: Mapped[str] = mapped_column(String(40))


class SyncStateRow(Base):
    """Where one provider's sync stands (``gateway.core.index.SyncState``)."""

    __tablename__ = "sync_state"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contacts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0")
    """Counted up in the transaction of every write to the provider's rows (``gateway.store.index``):
    an unchanged revision means unchanged rows, which is what lets a replica reuse an answer."""


class SyncLease(Base):
    """A named lease one holder has until ``expires_at`` (sync leadership on SQLite)."""

    __tablename__ = "sync_leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactEventRow(Base):
    """One event of the deletion feed (``gateway.core.feed.ContactEvent``), in the outbox.

    ``position`` only grows: writers of events take a lock first (``store.outbox``), so positions are
    committed in order and a reader that resumes after a position never skips one committed later.
    """

    __tablename__ = "contact_events"
    __table_args__ = (
        Index("ix_contact_events_provider_contact_id", "provider", "contact_id"),
        {"sqlite_autoincrement": True},
    )

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(40))
    contact_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(400))
    campaign_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    entry: Mapped[str | None] = mapped_column(Text)
    """The snapshot entry of a DELETED contact, as JSON text."""


class WebhookRow(Base):
    """A webhook of the deletion feed (``gateway.webhooks``), owned by the principal that registered it.

    ``secret`` is kept as given (it signs every delivery, so it cannot be hashed); ``cursor`` is the
    position of the last outbox event queued for it.  ``providers`` and ``kinds`` are its filter,
    comma-separated values (empty: all).
    """

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(400), index=True)
    owner_name: Mapped[str] = mapped_column(String(400))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    providers: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cursor: Mapped[int] = mapped_column(BigInteger)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(200))


class WebhookDeliveryRow(Base):
    """One event queued for one webhook: pending, delivered or dead (dead-lettered).

    ``body`` is the JSON sent, fixed when queued so that every attempt signs the same bytes;
    ``first_attempt_at`` starts the retry window (a replay starts a new one).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "position"),
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    first_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

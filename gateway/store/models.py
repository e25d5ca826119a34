"""The tables of the gateway's own database, as SQLAlchemy 2 typed models.

Migrations (``gateway/store/migrations``) are the only way these tables come to exist or change; a test
upgrades an empty database and checks that it matches these models exactly.  Later tables (the
deleted-contact index, sync watermarks) join the same ``Base``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Dialect, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["ApiKey", "AuditRecord", "Base", "IdempotencyRecord", "PersistedQuery", "UTCDateTime"]

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

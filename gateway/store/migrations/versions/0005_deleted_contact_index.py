"""The synced index of deleted contacts, GetResponse's memberships and catalog, the sync's state and
its leases.

On PostgreSQL, a trigram GIN index on ``deleted_contacts.email_key`` (``pg_trgm``) serves ``CONTAINS``
filters at scale; SQLite has no such index and scans (it gets an empty stand-in of the same name).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGRAM_INDEX = "ix_deleted_contacts_email_key_trgm"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "deleted_contacts",
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(400), nullable=False),
        sa.Column("email_key", sa.String(400), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("name_key", sa.String(400), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("deleted_on", sa.Date(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("sub_reason", sa.String(80), nullable=True),
        sa.Column("campaign_id", sa.String(200), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("order_day", sa.Integer(), nullable=False),
        sa.Column("order_moment", sa.Float(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("seen_run", sa.String(64), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "contact_id", name=op.f("pk_deleted_contacts")),
    )
    op.create_index(
        "ix_deleted_contacts_order",
        "deleted_contacts",
        ["order_day", "order_moment", "provider", "contact_id"],
        unique=False,
    )
    op.create_index(op.f("ix_deleted_contacts_email_key"), "deleted_contacts", ["email_key"], unique=False)
    op.create_index(
        "ix_deleted_contacts_provider_seen_run", "deleted_contacts", ["provider", "seen_run"], unique=False
    )
    op.create_index(
        "ix_deleted_contacts_provider_email_key_campaign_id",
        "deleted_contacts",
        ["provider", "email_key", "campaign_id"],
        unique=False,
    )
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            _TRIGRAM_INDEX,
            "deleted_contacts",
            ["email_key"],
            postgresql_using="gin",
            postgresql_ops={"email_key": "gin_trgm_ops"},
        )
    else:
        # SQLite has no trigram index.  The models name one (so that PostgreSQL's schema matches
        # them); here it is a partial index that holds no row, so it costs no write and no space.
        op.create_index(_TRIGRAM_INDEX, "deleted_contacts", ["email_key"], sqlite_where=sa.text("0"))

    op.create_table(
        "getresponse_memberships",
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("email_key", sa.String(400), nullable=False),
        sa.Column("campaign_id", sa.String(200), nullable=False),
        sa.Column("seen_run", sa.String(64), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_getresponse_memberships")),
    )
    op.create_index(
        "ix_getresponse_memberships_email_key_campaign_id",
        "getresponse_memberships",
        ["email_key", "campaign_id"],
        unique=False,
    )
    op.create_table(
        "getresponse_campaigns",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("name_key", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_getresponse_campaigns")),
    )
    op.create_table(
        "getresponse_messages",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("name_key", sa.String(400), nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_getresponse_messages")),
    )
    op.create_table(
        "sync_state",
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_leases",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_leases")),
    )


def downgrade() -> None:
    op.drop_table("sync_leases")
    op.drop_table("sync_state")
    op.drop_table("getresponse_messages")
    op.drop_table("getresponse_campaigns")
    op.drop_index("ix_getresponse_memberships_email_key_campaign_id", table_name="getresponse_memberships")
    op.drop_table("getresponse_memberships")
    op.drop_index(_TRIGRAM_INDEX, table_name="deleted_contacts")
    op.drop_index("ix_deleted_contacts_provider_email_key_campaign_id", table_name="deleted_contacts")
    op.drop_index("ix_deleted_contacts_provider_seen_run", table_name="deleted_contacts")
    op.drop_index(op.f("ix_deleted_contacts_email_key"), table_name="deleted_contacts")
    op.drop_index("ix_deleted_contacts_order", table_name="deleted_contacts")
    op.drop_table("deleted_contacts")

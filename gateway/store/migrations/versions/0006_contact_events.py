"""The deletion feed's outbox: one row per contact event, in position order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(400), nullable=False),
        sa.Column("campaign_id", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_contact_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_contact_events_event_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contact_events_provider_contact_id", "contact_events", ["provider", "contact_id"])
    op.create_index("ix_contact_events_recorded_at", "contact_events", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_contact_events_recorded_at", table_name="contact_events")
    op.drop_index("ix_contact_events_provider_contact_id", table_name="contact_events")
    op.drop_table("contact_events")

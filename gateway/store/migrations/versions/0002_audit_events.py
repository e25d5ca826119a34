"""The audit trail: append-only events, one intent and one outcome per contact written upstream.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = ("action_id", "principal_id", "contact_id", "email_key")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("action_id", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(400), nullable=False),
        sa.Column("principal_name", sa.String(400), nullable=False),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("item_index", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.String(400), nullable=True),
        sa.Column("email", sa.String(400), nullable=True),
        sa.Column("email_key", sa.String(400), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(400), nullable=True),
        sa.Column("idempotency_key", sa.String(400), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at_id", "audit_events", ["at", "id"], unique=False)
    for column in _INDEXED:
        op.create_index(op.f(f"ix_audit_events_{column}"), "audit_events", [column], unique=False)


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(op.f(f"ix_audit_events_{column}"), table_name="audit_events")
    op.drop_index("ix_audit_events_at_id", table_name="audit_events")
    op.drop_table("audit_events")

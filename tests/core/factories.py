"""Small builders for core-model tests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gateway.core.model import DeletedContact, DeletionReason, Provider


def contact(
    contact_id: str = "c1",
    *,
    provider: Provider = Provider.GETRESPONSE,
    email: str = "Ann.Smith+news@Example.com",
    deleted_on: date = date(2024, 5, 3),
    deleted_at: datetime | None = None,
    created_at: datetime | None = None,
    reason: DeletionReason = DeletionReason.API,
    blocked: str | None = None,
    raw: dict[str, Any] | None = None,
) -> DeletedContact:
    return DeletedContact(
        provider=provider,
        contact_id=contact_id,
        email=email,
        name="Ann Smith",
        created_at=created_at,
        deleted_on=deleted_on,
        deleted_at=deleted_at,
        reason=reason,
        restore_blocked_by=blocked,
        raw=raw or {"id": contact_id},
        source=None,
    )

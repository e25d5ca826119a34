"""An event's JSON body, as a webhook receives it.

The body is built once, when the event is queued for a webhook, and kept: every attempt (and every
retry's signature) covers the same bytes.  ``contact`` is the unified deleted-contact record (as the
GraphQL ``DeletedContact`` shows it) when the event carries one: a ``DELETED`` event the sync found.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from gateway.core.feed import ContactEvent
from gateway.core.model import DeletedContact, Provider
from gateway.core.ports import DeletedContactsPort

__all__ = ["contact_record", "event_body", "event_type"]


def event_type(event: ContactEvent) -> str:
    return f"contact.{event.kind.value}"


def _moment(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def contact_record(contact: DeletedContact) -> dict[str, Any]:
    return {
        "provider": contact.provider.name,
        "contactId": contact.contact_id,
        "email": contact.email,
        "name": contact.name,
        "createdAt": _moment(contact.created_at),
        "deletedOn": contact.deleted_on.isoformat(),
        "deletedAt": _moment(contact.deleted_at),
        "reason": contact.reason.name,
        "restorable": contact.restorable,
        "restoreBlockedBy": contact.restore_blocked_by,
        "raw": dict(contact.raw),
    }


def event_body(event: ContactEvent, ports: Mapping[Provider, DeletedContactsPort]) -> bytes:
    """The JSON body of ``event``; ``ports`` map a DELETED event's snapshot entry to its record (a
    provider no longer configured leaves ``contact`` null)."""
    port = ports.get(event.provider)
    contact = (
        contact_record(port.from_snapshot_entry(event.entry))
        if event.entry is not None and port is not None
        else None
    )
    payload = {
        "type": event_type(event),
        "id": event.event_id,
        "position": event.position,
        "provider": event.provider.name,
        "contactId": event.contact_id,
        "email": event.email,
        "occurredAt": _moment(event.occurred_at),
        "source": event.source.value,
        "reason": event.reason,
        "campaignId": event.campaign_id,
        "contact": contact,
    }
    return orjson.dumps(payload, default=str)

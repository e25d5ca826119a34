"""The records a GetResponse account holds, and the vocabulary the API documents for them.

A GetResponse *contact* is one address in one campaign: the same person in two campaigns is two
contacts with two ``CONTACT_ID`` values.  A deletion keeps the contact's id and its last known fields,
plus the *specific* reason (``bounce::mailbox_full``); the API only ever shows the general one.

Timestamps are UTC ``datetime`` objects inside the emulator and ``"YYYY-MM-DD HH:MM:SS"`` on the wire
(the 1.5 docs do not name a timezone; v3 uses UTC, so the emulator does too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

__all__ = [
    "CALLBACK_ACTIONS",
    "GENERAL_REASONS",
    "MESSAGE_TYPES",
    "ORIGINS",
    "SPECIFIC_REASONS",
    "Account",
    "CallbackConfig",
    "Campaign",
    "Contact",
    "Deletion",
    "Message",
    "QueuedContact",
    "format_timestamp",
    "general_reason",
]

ORIGINS = (
    "import", "email", "www", "panel", "leads", "sale", "api", "forward", "survey", "iphone", "copy",
    "landing_page",
)  # fmt: skip
GENERAL_REASONS = (
    "unsubscribe", "user", "support", "automation", "complaint", "blacklisted", "api", "bounce", "other",
)  # fmt: skip
SPECIFIC_REASONS = (
    "automation::remove-on-remove",
    "automation::remove-on-sale",
    "automation::remove-on-subscribe",
    "bounce::mailbox_full",
    "bounce::other_hard",
    "bounce::other_soft",
    "bounce::user_unknown",
    "bounce::user_recycled",
)
MESSAGE_TYPES = ("newsletter", "autoresponder", "ab_test", "draft")
CALLBACK_ACTIONS = ("subscribe", "open", "click", "goal", "survey", "unsubscribe")


def general_reason(reason: str) -> str:
    """``bounce::user_unknown`` -> ``bounce``; a general reason stays as it is."""
    return reason.partition("::")[0]


def format_timestamp(moment: datetime | None) -> str | None:
    # isoformat, not strftime: the same text (for years 1000 on) several times faster.
    return None if moment is None else moment.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    login: str


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    description: str | None
    is_default: bool
    optin: str
    from_name: str
    from_email: str
    reply_to_email: str
    created_on: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "is_default": "yes" if self.is_default else "no",
            "optin": self.optin,
            "from_name": self.from_name,
            "from_email": self.from_email,
            "reply_to_email": self.reply_to_email,
            "created_on": format_timestamp(self.created_on),
        }


@dataclass(frozen=True, slots=True)
class Message:
    """A message of a campaign; ``details`` holds the fields only its type carries (``send_on``, ...)."""

    message_id: str
    campaign_id: str
    type: str
    subject: str
    name: str | None
    created_on: datetime
    send_on: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        common = {
            "campaign": self.campaign_id,
            "type": self.type,
            "subject": self.subject,
            "name": self.name,
            "content_types": ["plain", "html"],
            "flags": ["clicktrack", "openrate"] if self.type != "draft" else [],
        }
        if self.type == "newsletter":
            common["send_on"] = format_timestamp(self.send_on)
        return {**common, **self.details, "created_on": format_timestamp(self.created_on)}


@dataclass(slots=True)
class Contact:
    """An active contact.  ``shuffle_key`` fixes its place in unordered results; ``rank`` is its place
    among the store's contacts (set by the store), so a read through an index can answer in the same
    order as a walk of every contact."""

    contact_id: str
    campaign_id: str
    name: str
    email: str
    origin: str
    ip: str | None
    cycle_day: int | None
    created_on: datetime
    changed_on: datetime | None = None
    shuffle_key: int = 0
    rank: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "name": self.name,
            "email": self.email,
            "origin": self.origin,
            "ip": self.ip,
            "cycle_day": self.cycle_day,
            "changed_on": format_timestamp(self.changed_on),
            "created_on": format_timestamp(self.created_on),
        }


@dataclass(slots=True, eq=False)
class Deletion:
    """One removal of one contact from one campaign; ``reason`` is the specific reason when known.

    ``rank`` is the place of its (campaign, address) among the store's newest removals, set by the
    store.  The serialized ``get_contacts_deleted`` entry is made on the first read that returns it
    and kept (``api_fragment``): seeding a million removals builds no JSON, and a sync that reads them
    all builds each once.  A removal never changes, so the kept bytes never go stale.
    """

    contact_id: str
    campaign_id: str
    message_id: str | None
    name: str
    email: str
    origin: str
    ip: str | None
    cycle_day: int | None
    reason: str
    created_on: datetime
    deleted_on: datetime
    rank: int = 0
    fragment: orjson.Fragment | None = field(default=None, repr=False)

    @property
    def created_day(self) -> str:
        return self.created_on.date().isoformat()

    @property
    def deleted_day(self) -> str:
        return self.deleted_on.date().isoformat()

    def api_fragment(self) -> orjson.Fragment:
        """``api_json`` serialized, made once."""
        if self.fragment is None:
            self.fragment = orjson.Fragment(orjson.dumps(self.api_json()))
        return self.fragment

    def api_json(self) -> dict[str, Any]:
        """The ``get_contacts_deleted`` entry: ``message`` only when known, the general reason."""
        entry: dict[str, Any] = {"campaign": self.campaign_id}
        if self.message_id is not None:
            entry["message"] = self.message_id
        entry.update(
            name=self.name,
            email=self.email,
            origin=self.origin,
            ip=self.ip,
            cycle_day=self.cycle_day,
            reason=general_reason(self.reason),
            created_on=format_timestamp(self.created_on),
            deleted_on=format_timestamp(self.deleted_on),
        )
        return entry

    def to_ground_truth(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "campaign": self.campaign_id,
            "message": self.message_id,
            "email": self.email,
            "name": self.name,
            "origin": self.origin,
            "ip": self.ip,
            "cycle_day": self.cycle_day,
            "reason": self.reason,
            "created_on": format_timestamp(self.created_on),
            "deleted_on": format_timestamp(self.deleted_on),
        }


@dataclass(frozen=True, slots=True)
class QueuedContact:
    """An ``add_contact`` waiting for validation and confirmation, due at ``confirms_at``."""

    campaign_id: str
    email: str
    name: str
    cycle_day: int | None
    ip: str | None
    customs: tuple[tuple[str, str], ...]
    queued_at: datetime
    confirms_at: datetime

    def to_ground_truth(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "email": self.email,
            "name": self.name,
            "cycle_day": self.cycle_day,
            "ip": self.ip,
            "customs": dict(self.customs),
            "queued_at": format_timestamp(self.queued_at),
            "confirms_at": format_timestamp(self.confirms_at),
        }


@dataclass(frozen=True, slots=True)
class CallbackConfig:
    uri: str
    actions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"uri": self.uri, "actions": list(self.actions)}

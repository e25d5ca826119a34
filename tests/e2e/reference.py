"""The answer the gateway should give, computed independently from the emulators' ground truth.

Nothing here imports the gateway: the filter semantics are re-implemented plainly (a LIKE pattern is
turned into a regular expression by hand, day ranges are string comparisons of ISO days), so a test
that compares the gateway with this module compares two implementations, not one with itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Expected", "ReferenceFilter", "deleted_records"]

GR_DEFAULT_MESSAGE_TYPES = ("newsletter", "autoresponder")
SPECIFIC_REASONS = {
    "AUTOMATION_REMOVE_ON_REMOVE": "automation::remove-on-remove",
    "AUTOMATION_REMOVE_ON_SALE": "automation::remove-on-sale",
    "AUTOMATION_REMOVE_ON_SUBSCRIBE": "automation::remove-on-subscribe",
    "BOUNCE_MAILBOX_FULL": "bounce::mailbox_full",
    "BOUNCE_OTHER_HARD": "bounce::other_hard",
    "BOUNCE_OTHER_SOFT": "bounce::other_soft",
    "BOUNCE_USER_UNKNOWN": "bounce::user_unknown",
    "BOUNCE_USER_RECYCLED": "bounce::user_recycled",
}


@dataclass(frozen=True)
class Expected:
    """One deleted contact as the gateway should list it."""

    provider: str  # GraphQL enum name
    contact_id: str
    email: str
    name: str  # "" when the provider records none
    deleted_on: str  # YYYY-MM-DD
    deleted_at: str | None  # "YYYY-MM-DD HH:MM:SS" (GetResponse) or None
    created_day: str | None
    reason: str  # the general reason, GraphQL enum name
    specific_reason: str | None  # GetResponse's stored reason, e.g. "bounce::mailbox_full"
    campaign: str | None = None
    message: str | None = None


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    for char in pattern:
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def text_matches(operator: str, value: str, text: str) -> bool:
    if operator in ("EQUALS", "NOT_EQUALS"):
        hit = text.lower() == value.lower()
    else:
        hit = _like(value).fullmatch(text) is not None
    return not hit if operator.startswith("NOT_") else hit


def _gr_records(truth: dict[str, Any]) -> list[Expected]:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in truth["deleted"]:
        key = (record["campaign"], record["email"].casefold())
        if key not in latest or record["deleted_on"] >= latest[key]["deleted_on"]:
            latest[key] = record
    active = {(c["campaign"], c["email"].casefold()) for c in truth["contacts"].values()}
    return [
        Expected(
            provider="GETRESPONSE",
            contact_id=record["contact_id"],
            email=record["email"],
            name=record["name"] or "",
            deleted_on=record["deleted_on"][:10],
            deleted_at=record["deleted_on"],
            created_day=record["created_on"][:10] if record["created_on"] else None,
            reason=record["reason"].split("::")[0].upper(),
            specific_reason=record["reason"],
            campaign=record["campaign"],
            message=record["message"],
        )
        for key, record in latest.items()
        if key not in active
    ]


def _cc_records(truth: dict[str, Any]) -> list[Expected]:
    found = []
    for contact in truth["contacts"].values():
        if not contact.get("deleted_at"):
            continue
        created = contact.get("created_at")
        found.append(
            Expected(
                provider="CONSTANT_CONTACT",
                contact_id=contact["contact_id"],
                email=contact["email_address"]["address"],
                name=" ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p),
                deleted_on=contact["deleted_at"][:10],
                deleted_at=None,
                created_day=_utc_day(created) if created else None,
                reason="UNKNOWN",
                specific_reason=None,
            )
        )
    return found


def _utc_day(timestamp: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()


def deleted_records(cc_truth: dict[str, Any], gr_truth: dict[str, Any]) -> list[Expected]:
    return _cc_records(cc_truth) + _gr_records(gr_truth)


@dataclass(frozen=True)
class ReferenceFilter:
    """The GraphQL filter input, evaluated plainly.  Field names follow the GraphQL input."""

    providers: tuple[str, ...] = ()
    email: tuple[tuple[str, str], ...] = ()
    name: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()  # DeletionReasonFilter enum names
    created: tuple[str | None, str | None] = (None, None)
    deleted: tuple[str | None, str | None] = (None, None)
    campaign_ids: tuple[str, ...] = ()
    campaign_name: tuple[str, str] | None = None
    message_ids: tuple[str, ...] = ()
    message_name: tuple[str, str] | None = None
    gr_truth: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_input(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.providers:
            data["providers"] = list(self.providers)
        if self.email:
            data["email"] = [{"operator": op, "value": value} for op, value in self.email]
        if self.name:
            data["name"] = [{"operator": op, "value": value} for op, value in self.name]
        if self.reasons:
            data["reasons"] = list(self.reasons)
        for name, (start, end) in (("createdOn", self.created), ("deletedOn", self.deleted)):
            if start or end:
                data[name] = {k: v for k, v in (("from", start), ("to", end)) if v}
        if self.campaign_ids:
            data["campaignIds"] = list(self.campaign_ids)
        if self.campaign_name:
            data["campaignName"] = {"operator": self.campaign_name[0], "value": self.campaign_name[1]}
        if self.message_ids:
            data["messageIds"] = list(self.message_ids)
        if self.message_name:
            data["messageName"] = {"operator": self.message_name[0], "value": self.message_name[1]}
        return data

    def _campaigns(self) -> set[str] | None:
        if not self.campaign_ids and self.campaign_name is None:
            return None
        chosen = set(self.campaign_ids)
        if self.campaign_name is not None:
            op, value = self.campaign_name
            chosen |= {
                cid for cid, c in self.gr_truth["campaigns"].items() if text_matches(op, value, c["name"])
            }
        return chosen

    def _messages(self) -> set[str] | None:
        if not self.message_ids and self.message_name is None:
            return None
        chosen = set(self.message_ids)
        if self.message_name is not None:
            op, value = self.message_name
            chosen |= {
                mid
                for mid, m in self.gr_truth["messages"].items()
                if m["type"] in GR_DEFAULT_MESSAGE_TYPES and text_matches(op, value, m["name"])
            }
        return chosen

    def _reason_ok(self, record: Expected) -> bool:
        if not self.reasons:
            return True
        for wanted in self.reasons:
            specific = SPECIFIC_REASONS.get(wanted)
            if specific is not None:
                if record.specific_reason == specific:
                    return True
            elif record.reason == wanted:
                return True
        return False

    def matches(self, record: Expected) -> bool:
        if self.providers and record.provider not in self.providers:
            return False
        for op, value in self.email:
            if not text_matches(op, value, record.email):
                return False
        for op, value in self.name:
            if not text_matches(op, value, record.name):
                return False
        if not self._reason_ok(record):
            return False
        for (start, end), day in ((self.created, record.created_day), (self.deleted, record.deleted_on)):
            if start is None and end is None:
                continue
            if day is None or (start and day < start) or (end and day > end):
                return False
        campaigns, messages = self._campaigns(), self._messages()
        if campaigns is not None and record.campaign not in campaigns:
            return False
        return messages is None or record.message in messages

"""``get_contacts_deleted``: the removals that match every given condition.

Conditions (all optional, ANDed with each other):

- ``campaigns`` / ``get_campaigns``: the removal's campaign is in the union of both (see ``catalog``);
- ``messages`` / ``get_messages``: the removal is attributed to one of those messages (removals
  without a known message never match);
- ``email``: text operators on the address (an empty ``EQUALS`` is ``Invalid params``, see
  ``Conditions.address``);
- ``reason``: one general reason (matches it and all of its sub-reasons) or one specific sub-reason
  (matches exactly that); anything else is ``Invalid params``;
- ``created_on`` / ``deleted_on``: time operators on the UTC calendar day.

The store already keeps one removal per campaign and address (the newest), so the query is a single
pass over at most one entry per contact; parsing compiles every text condition once.  A ``deleted_on``
range of a few days reads only those days' removals from the store's day index (a sync of a large
account reads it range by range).  The result is an object keyed by ``CONTACT_ID`` in the store's
arbitrary order (the same with or without the index), never sorted, and ``{}`` when nothing matches.
Entries are the removals' serialized JSON, made once per removal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .catalog import selected_campaigns, selected_messages
from .errors import invalid_params
from .model import GENERAL_REASONS, SPECIFIC_REASONS, Deletion
from .params import Conditions
from .store import GetResponseStore

__all__ = ["get_contacts_deleted"]

_CONDITIONS = (
    "campaigns",
    "get_campaigns",
    "messages",
    "get_messages",
    "email",
    "reason",
    "created_on",
    "deleted_on",
)


def get_contacts_deleted(store: GetResponseStore, conditions: Conditions) -> dict[str, Any]:
    conditions.only(*_CONDITIONS)
    campaigns = selected_campaigns(store, conditions)
    messages = selected_messages(store, conditions)
    email = conditions.address("email")
    reason = _reason(conditions)
    created_on = conditions.days("created_on")
    deleted_on = conditions.days("deleted_on")

    candidates: Iterable[Deletion] | None = None
    if deleted_on is not None:
        candidates = store.latest_deletions_between(deleted_on.first_day, deleted_on.last_day)
    found: dict[str, Any] = {}
    for removal in store.latest_deletions() if candidates is None else candidates:
        if campaigns is not None and removal.campaign_id not in campaigns:
            continue
        if messages is not None and removal.message_id not in messages:
            continue
        if reason is not None and not _has_reason(removal.reason, reason):
            continue
        if created_on is not None and not created_on.matches_moment(removal.created_on):
            continue
        if deleted_on is not None and not deleted_on.matches_moment(removal.deleted_on):
            continue
        if email is not None and not email.matches(removal.email):
            continue
        found[removal.contact_id] = store.entry(removal)
    return found


def _has_reason(stored: str, wanted: str) -> bool:
    """A general reason covers its sub-reasons; a sub-reason only itself."""
    return stored == wanted or stored.startswith(f"{wanted}::")


def _reason(conditions: Conditions) -> str | None:
    if "reason" not in conditions.raw:
        return None
    reason = conditions.raw["reason"]
    if reason not in GENERAL_REASONS and reason not in SPECIFIC_REASONS:
        allowed = ", ".join((*GENERAL_REASONS, *SPECIFIC_REASONS))
        raise invalid_params(f"reason must be one of: {allowed}")
    return str(reason)

"""Campaign and message queries, and "IDs in conditions".

``get_campaigns`` and ``get_messages`` filter the catalog; the same filters nest inside other methods'
conditions.  A method that takes ``campaigns`` (a list of ids) and ``get_campaigns`` (nested
``get_campaigns`` conditions) searches the UNION of both (the 2012 doc's example answers "this id OR
that name"); with neither, every campaign.  ``messages`` / ``get_messages`` pair up the same way.
Ids that do not exist simply match nothing.

Without ``type``, ``get_messages`` returns newsletters and autoresponders only, as documented, and a
nested ``get_messages`` does too: a removal attributed to an A/B test message is found only with
``"type": "ab_test"`` or by id.
"""

from __future__ import annotations

from datetime import datetime

from .model import MESSAGE_TYPES, Campaign, Message
from .params import Conditions
from .store import GetResponseStore

__all__ = ["find_campaigns", "find_messages", "selected_campaigns", "selected_messages"]

_DEFAULT_MESSAGE_TYPES = ("newsletter", "autoresponder")


def find_campaigns(store: GetResponseStore, conditions: Conditions) -> list[Campaign]:
    name = conditions.only("name").text("name")
    return [campaign for campaign in store.campaigns.values() if name is None or name.matches(campaign.name)]


def find_messages(store: GetResponseStore, conditions: Conditions) -> list[Message]:
    conditions.only("campaigns", "get_campaigns", "type", "subject", "name", "send_on", "created_on")
    campaigns = selected_campaigns(store, conditions)
    kind = conditions.string("type", choices=MESSAGE_TYPES)
    types = (kind,) if kind is not None else _DEFAULT_MESSAGE_TYPES
    subject, name = conditions.text("subject"), conditions.text("name")
    send_on, created_on = conditions.days("send_on"), conditions.days("created_on")
    found = []
    for message in store.messages.values():
        if message.type not in types or (campaigns is not None and message.campaign_id not in campaigns):
            continue
        if subject is not None and not subject.matches(message.subject):
            continue
        if name is not None and not name.matches(message.name):
            continue
        if send_on is not None and not send_on.matches(_day(message.send_on)):
            continue
        if created_on is not None and not created_on.matches(_day(message.created_on)):
            continue
        found.append(message)
    return found


def selected_campaigns(store: GetResponseStore, conditions: Conditions) -> set[str] | None:
    """The campaign ids named by ``campaigns`` / ``get_campaigns``; ``None`` means "every campaign"."""
    ids = conditions.id_list("campaigns")
    nested = conditions.nested("get_campaigns")
    if ids is None and nested is None:
        return None
    chosen = set(ids or ())
    if nested is not None:
        chosen.update(campaign.campaign_id for campaign in find_campaigns(store, nested))
    return chosen


def selected_messages(store: GetResponseStore, conditions: Conditions) -> set[str] | None:
    """The message ids named by ``messages`` / ``get_messages``; ``None`` means "no message filter"."""
    ids = conditions.id_list("messages")
    nested = conditions.nested("get_messages")
    if ids is None and nested is None:
        return None
    chosen = set(ids or ())
    if nested is not None:
        chosen.update(message.message_id for message in find_messages(store, nested))
    return chosen


def _day(moment: datetime | None) -> str | None:
    return None if moment is None else moment.date().isoformat()

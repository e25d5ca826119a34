"""``get_contacts``: active contacts matching the conditions, optionally one ``pager`` chunk.

Supported conditions: ``campaigns`` / ``get_campaigns``, ``name`` and ``email`` (text operators; an
empty ``EQUALS`` address is ``Invalid params``, see ``Conditions.address``),
``created_on`` and ``changed_on`` (time operators), ``origin`` (one documented origin), ``cycle_day``
(numeric operators; ``{"EQUALS": null}`` finds inactive contacts) and ``pager``.  The rest of the
documented conditions (``customs``, ``geoip``, clicks/opens/goals, ``segmentation``) are refused with
``Invalid params`` rather than ignored.

A ``created_on`` or ``changed_on`` range of a few days (a delta: "what is new since Monday") reads
those days from the store's day indexes rather than every contact, and answers in the same order.

``pager`` is ``ORDER BY ... LIMIT ... OFFSET``: ``order_by`` ``name|email|origin|created_on`` (default
``created_on``), ``direction`` ``ascending|descending`` (default ascending), ``limit`` (default: no
limit), ``offset`` (default 0); ``null`` counts as absent.  Ordering is case- and accent-insensitive,
ties broken by contact id.  As documented, each chunk still comes back as an unordered object: the
client re-sorts it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .catalog import selected_campaigns
from .model import ORIGINS, Contact
from .params import Conditions
from .store import GetResponseStore

__all__ = ["get_contacts"]

_CONDITIONS = (
    "campaigns",
    "get_campaigns",
    "name",
    "email",
    "created_on",
    "changed_on",
    "origin",
    "cycle_day",
    "pager",
)
_UNSUPPORTED = (
    "customs", "geoip", "geo", "clicks", "get_clicks", "opens", "get_opens", "goals", "get_goals",
    "segmentation",
)  # fmt: skip
_ORDER_BY = ("name", "email", "origin", "created_on")
_DIRECTIONS = ("ascending", "descending")


def get_contacts(store: GetResponseStore, conditions: Conditions) -> dict[str, Any]:
    conditions.only(*_CONDITIONS, unsupported=_UNSUPPORTED)
    campaigns = selected_campaigns(store, conditions)
    name, email = conditions.text("name"), conditions.address("email")
    created_on, changed_on = conditions.days("created_on"), conditions.days("changed_on")
    origin = conditions.string("origin", choices=ORIGINS)
    cycle_day = conditions.number("cycle_day")
    pager = conditions.nested("pager")

    # A range of days reads the store's day index (the narrower of the two when both are given).
    candidates: list[Contact] | None = None
    if created_on is not None:
        candidates = store.contacts_created_between(created_on.first_day, created_on.last_day)
    if changed_on is not None:
        changed = store.contacts_changed_between(changed_on.first_day, changed_on.last_day)
        if changed is not None and (candidates is None or len(changed) < len(candidates)):
            candidates = changed
    found: list[Contact] = []
    for contact in store.contacts.values() if candidates is None else candidates:
        if campaigns is not None and contact.campaign_id not in campaigns:
            continue
        if origin is not None and contact.origin != origin:
            continue
        if name is not None and not name.matches(contact.name):
            continue
        if email is not None and not email.matches(contact.email):
            continue
        if created_on is not None and not created_on.matches_moment(contact.created_on):
            continue
        if changed_on is not None and not changed_on.matches_moment(contact.changed_on):
            continue
        if cycle_day is not None and not cycle_day.matches(contact.cycle_day):
            continue
        found.append(contact)
    if pager is not None:
        found = _page(found, pager)
        found.sort(key=lambda contact: contact.shuffle_key)  # a chunk is an unordered hash
    return {contact.contact_id: contact.to_json() for contact in found}


def _page(contacts: list[Contact], pager: Conditions) -> list[Contact]:
    pager.only("order_by", "direction", "limit", "offset")
    order_by = pager.string("order_by", choices=_ORDER_BY) or "created_on"
    direction = pager.string("direction", choices=_DIRECTIONS) or "ascending"
    limit = pager.integer("limit", minimum=1)
    offset = pager.integer("offset", minimum=0) or 0
    ordered = sorted(contacts, key=lambda contact: (_sort_value(contact, order_by), contact.contact_id))
    if direction == "descending":
        ordered.reverse()
    return ordered[offset : None if limit is None else offset + limit]


def _sort_value(contact: Contact, order_by: str) -> str:
    if order_by == "created_on":
        return contact.created_on.isoformat()
    value: str = getattr(contact, order_by) or ""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))

"""Listings map each deleted contact from the few fields they need; the rest is parsed when read."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.model import DeletionReason, Provider
from gateway.providers.constant_contact.mapping import to_deleted_contact_from_json
from gateway.providers.constant_contact.records import Contact, ContactEntriesPage, ContactSummary
from gateway.providers.errors import InvalidUpstreamResponse
from gateway.providers.getresponse.mapping import to_deleted_contact
from gateway.providers.getresponse.records import DeletedContact as GetResponseRecord
from gateway.providers.getresponse.records import DeletedContactSummary
from gateway.providers.lazy import LazyRecord

CC_CONTACT: dict[str, Any] = {
    "contact_id": "1ec5a1d2-0c66-11e9-a1f2-fa163e56c9b0",
    "email_address": {"address": "Ann@Example.com", "permission_to_send": "unsubscribed"},
    "first_name": "Ann",
    "last_name": "Smith",
    "job_title": 42,  # not a string: only the full parse notices
    "created_at": "2013-04-01T15:07:07-04:00",
    "deleted_at": "2015-03-17",
}
GR_ENTRY: dict[str, Any] = {
    "campaign": "V7",
    "message": "m1",
    "name": "Ann Smith",
    "email": "ann@example.com",
    "origin": "www",
    "ip": "1.1.1.1",
    "cycle_day": "soon",  # not a number: only the full parse notices
    "reason": "complaint",
    "created_on": "2010-01-01 00:00:00",
    "deleted_on": "2010-01-02 10:00:00",
}


def test_lazy_record_parses_once_on_first_read() -> None:
    calls: list[int] = []

    def parse() -> Any:
        calls.append(1)
        return type("Record", (), {"name": "x"})()

    lazy = LazyRecord(parse)
    assert calls == [] and "not parsed" in repr(lazy)
    assert lazy.name == "x" and lazy.name == "x"
    assert calls == [1] and "parsed" in repr(lazy)


def test_constant_contact_listing_maps_from_the_summary_and_parses_the_rest_on_demand() -> None:
    contact = to_deleted_contact_from_json(CC_CONTACT)
    assert contact is not None
    assert (contact.provider, contact.email, contact.name) == (
        Provider.CONSTANT_CONTACT,
        "Ann@Example.com",
        "Ann Smith",
    )
    assert contact.deleted_on.isoformat() == "2015-03-17" and contact.reason is DeletionReason.UNKNOWN
    assert contact.restore_blocked_by is not None  # unsubscribed before the deletion
    assert contact.raw is CC_CONTACT
    with pytest.raises(InvalidUpstreamResponse, match="job_title"):
        _ = contact.source.job_title
    assert to_deleted_contact_from_json({**CC_CONTACT, "deleted_at": None}) is None


@pytest.mark.parametrize(
    "broken",
    [
        {**CC_CONTACT, "contact_id": None},
        {**CC_CONTACT, "email_address": {"permission_to_send": "implicit"}},
        {**CC_CONTACT, "created_at": "yesterday"},
        {**CC_CONTACT, "deleted_at": 20150317},
        {**CC_CONTACT, "first_name": ["Ann"]},
    ],
)
def test_constant_contact_summary_still_rejects_what_the_listing_reads(broken: dict[str, Any]) -> None:
    with pytest.raises(InvalidUpstreamResponse):
        ContactSummary.from_json(broken)


def test_constant_contact_entries_page_checks_the_envelope_only() -> None:
    page = ContactEntriesPage.from_json(
        {"contacts": [CC_CONTACT], "_links": {"next": {"href": "/v3/contacts?cursor=abc"}}}
    )
    assert page.entries == [CC_CONTACT] and page.next_href == "/v3/contacts?cursor=abc"
    for broken in ({}, {"contacts": [1]}, {"contacts": {}}, []):
        with pytest.raises(InvalidUpstreamResponse):
            ContactEntriesPage.from_json(broken)
    assert Contact.from_json({**CC_CONTACT, "job_title": "CEO"}).job_title == "CEO"


def test_getresponse_listing_maps_from_the_summary_and_parses_the_rest_on_demand() -> None:
    (summary,) = DeletedContactSummary.parse_map({"c1": GR_ENTRY})
    contact = to_deleted_contact(summary)
    assert (contact.contact_id, contact.email, contact.reason) == (
        "c1",
        "ann@example.com",
        DeletionReason.COMPLAINT,
    )
    assert contact.deleted_at is not None and contact.deleted_at.hour == 10
    assert contact.restore_blocked_by is not None
    with pytest.raises(InvalidUpstreamResponse, match="cycle_day"):
        _ = contact.source.cycle_day
    full = to_deleted_contact(GetResponseRecord.from_entry("c1", {**GR_ENTRY, "cycle_day": 3}))
    assert full.source.cycle_day == 3 and full.email == contact.email


@pytest.mark.parametrize("key", ["email", "campaign", "reason", "created_on", "deleted_on"])
def test_getresponse_summary_still_rejects_what_the_listing_reads(key: str) -> None:
    with pytest.raises(InvalidUpstreamResponse, match=key):
        DeletedContactSummary.from_entry("c1", {**GR_ENTRY, key: None})

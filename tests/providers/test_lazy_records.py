"""Listings read only what orders deleted contacts; a contact is mapped and parsed when read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.lazy import LazyRecord
from gateway.core.model import DeletionReason, Provider
from gateway.core.ordering import sort_key
from gateway.providers.constant_contact import records as cc_records
from gateway.providers.constant_contact.mapping import listed_contact, to_deleted_contact_from_json
from gateway.providers.constant_contact.records import Contact, ContactEntriesPage, summary_fields
from gateway.providers.errors import InvalidUpstreamResponse
from gateway.providers.getresponse import records as gr_records
from gateway.providers.getresponse.mapping import from_listing_entry, listed_deletions, to_deleted_contact
from gateway.providers.getresponse.records import DeletedContact as GetResponseRecord
from gateway.providers.getresponse.records import deleted_summary_fields

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
        summary_fields(broken)


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
    contact = from_listing_entry(["c1", GR_ENTRY])
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
        deleted_summary_fields("c1", {**GR_ENTRY, key: None})


# -- the listing's fast checks ------------------------------------------------------------------------

_ODD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(
        ["", "2015-03-17", "2013-04-01T15:07:07Z", "2013-04-01T15:07:07-04:00", "2013-04-01 15:07:07",
         "2010-01-02 10:00:00", "2010-01-02T10:00:00+02:00", "2010-13-02 10:00:00", "yes"]
    ),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.sampled_from(["address", "permission_to_send"]), st.text(max_size=8), max_size=2),
)  # fmt: skip


def _outcome(parse: Any, *args: Any) -> Any:
    try:
        return parse(*args)
    except InvalidUpstreamResponse as error:
        return ("invalid", str(error))


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(CC_CONTACT)), _ODD_VALUES, max_size=3))
def test_constant_contact_fast_checks_agree_with_the_field_by_field_parse(changes: dict[str, Any]) -> None:
    payload = {**CC_CONTACT, "job_title": None, **changes}
    fast = _outcome(cc_records.summary_fields, payload)
    assert fast == _outcome(cc_records._checked_summary_fields, payload)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(GR_ENTRY)), _ODD_VALUES, max_size=3),
    contact_id=st.sampled_from(["c1", "", None]),
)
def test_getresponse_fast_checks_agree_with_the_field_by_field_parse(
    changes: dict[str, Any], contact_id: Any
) -> None:
    entry = {**GR_ENTRY, **changes}
    fast = _outcome(gr_records.deleted_summary_fields, contact_id, entry)
    assert fast == _outcome(gr_records._checked_summary_fields, contact_id, entry)


CC_FULL: dict[str, Any] = {
    **CC_CONTACT,
    "job_title": "CEO",
    "company_name": None,
    "birthday_month": 4,
    "birthday_day": None,
    "anniversary": "2006-11-15",
    "create_source": "Account",
    "update_source": "Contact",
    "updated_at": "2015-03-17T10:00:00Z",
    "list_memberships": ["07936f78-662a-11eb-af0a-fa163e56c9b9"],
    "email_address": {
        **CC_CONTACT["email_address"],
        "created_at": "2013-04-01T15:07:07Z",
        "updated_at": "",
        "opt_in_source": "Contact",
        "opt_in_date": "2013-04-01T15:07:07.5+00:00",
        "opt_out_date": None,
        "confirm_status": "off",
    },
}


@contextlib.contextmanager
def _field_by_field_only(*classes: Any) -> Iterator[None]:
    """The classes' common-shape readers switched off: they parse every record field by field."""
    name = {Contact: "from_common_json", cc_records.EmailAddress: "from_common_json"}
    saved = [(cls, name.get(cls, "from_common_entry")) for cls in classes]
    readers = [cls.__dict__[attribute] for cls, attribute in saved]
    for cls, attribute in saved:
        setattr(cls, attribute, classmethod(lambda cls, *args: None))
    try:
        yield
    finally:
        for (cls, attribute), reader in zip(saved, readers, strict=True):
            setattr(cls, attribute, reader)


def test_the_common_shapes_are_read_by_the_common_shape_readers() -> None:
    assert Contact.from_common_json(CC_FULL) == Contact.from_json(CC_FULL)
    assert GetResponseRecord.from_common_entry("c1", {**GR_ENTRY, "cycle_day": 3}) is not None


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(CC_FULL)), _ODD_VALUES, max_size=3),
    address_changes=st.dictionaries(
        st.sampled_from(sorted(CC_FULL["email_address"])), _ODD_VALUES, max_size=2
    ),
)
def test_constant_contact_full_parse_reads_the_common_shape_as_the_field_by_field_parse_does(
    changes: dict[str, Any], address_changes: dict[str, Any]
) -> None:
    payload = {**CC_FULL, "email_address": {**CC_FULL["email_address"], **address_changes}, **changes}
    fast = _outcome(Contact.from_json, payload)
    with _field_by_field_only(Contact, cc_records.EmailAddress):
        assert fast == _outcome(Contact.from_json, payload)
    if not isinstance(fast, tuple):
        assert fast.raw == payload and fast.raw is not payload


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*sorted(GR_ENTRY), "x"]), _ODD_VALUES, max_size=3),
    contact_id=st.sampled_from(["c1", "", None]),
)
def test_getresponse_full_parse_reads_the_common_shape_as_the_field_by_field_parse_does(
    changes: dict[str, Any], contact_id: Any
) -> None:
    entry = {**GR_ENTRY, "cycle_day": 3, **changes}
    fast = _outcome(GetResponseRecord.from_entry, contact_id, entry)
    with _field_by_field_only(GetResponseRecord):
        assert fast == _outcome(GetResponseRecord.from_entry, contact_id, entry)


@pytest.mark.parametrize(
    "text",
    ["2010-01-02 10:00:00", "2010-01-02T10:00:00", "2010-01-02 10:00:00+02:00", "2010-01-02T10:00:00Z",
     "2010-01-02", "2010-01-02 10:00+02"],
)  # fmt: skip
def test_getresponse_timestamps_are_aware_utc_whatever_the_form(text: str) -> None:
    moment = gr_records.parse_timestamp(text)
    general = datetime.fromisoformat(text)
    expected = general.replace(tzinfo=UTC) if general.tzinfo is None else general.astimezone(UTC)
    assert moment == expected and moment.tzinfo is UTC


def test_listed_contacts_carry_their_merge_order_and_map_only_when_read() -> None:
    (cc,) = [listed_contact(CC_CONTACT)]
    assert cc is not None and cc.entry is CC_CONTACT and cc.provider is Provider.CONSTANT_CONTACT
    assert listed_contact({**CC_CONTACT, "deleted_at": None}) is None
    gr_result = {
        "c1": GR_ENTRY,
        "c2": {**GR_ENTRY, "email": "Bob@Example.com", "deleted_on": "2010-01-02 11:00:00"},
        "c3": {**GR_ENTRY, "email": "carl@example.com", "campaign": "V8"},
    }
    listed = listed_deletions(gr_result, {("bob@example.com", "V7")})  # c2 was restored to V7
    assert [item.contact_id for item in listed] == ["c1", "c3"]
    assert listed[0].entry == ["c1", GR_ENTRY] and listed[0]._map_entry is not None  # not mapped yet
    for item in [cc, *listed]:
        assert item.order == sort_key(item.contact)  # the key of the listing is the merge order's
        assert item.contact is item.contact  # mapped once
    with pytest.raises(InvalidUpstreamResponse, match="deleted_on"):
        listed_deletions({"c9": {**GR_ENTRY, "deleted_on": "never"}}, set())


def _parsed(parse: Any, *args: Any) -> tuple[bool, Any]:
    try:
        return True, parse(*args)
    except InvalidUpstreamResponse as error:
        return False, str(error)


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(GR_ENTRY)), _ODD_VALUES, max_size=3))
def test_getresponse_listings_read_what_the_full_checks_read_of_the_fields_they_need(
    changes: dict[str, Any],
) -> None:
    entry = {**GR_ENTRY, **changes}
    listed_ok, listed = _parsed(gr_records.deleted_listing_fields, "c1", entry)
    summary_ok, summary = _parsed(gr_records.deleted_summary_fields, "c1", entry)
    if summary_ok:
        email, _, campaign, _, _, deleted_on = summary
        assert listed_ok and listed == (email, campaign, deleted_on.timestamp())
    if not listed_ok:
        assert any(f".{key} " in listed for key in ("email", "campaign", "deleted_on")), listed


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(CC_CONTACT)), _ODD_VALUES, max_size=3))
def test_constant_contact_listings_read_what_the_full_checks_read_of_the_fields_they_need(
    changes: dict[str, Any],
) -> None:
    payload = {**CC_CONTACT, **changes}
    listed_ok, listed = _parsed(cc_records.listing_fields, payload)
    summary_ok, summary = _parsed(summary_fields, payload)
    if summary_ok:
        assert listed_ok and listed == (summary[0], summary[6])
    if not listed_ok:
        assert any(f".{key} " in listed for key in ("contact_id", "deleted_at")), listed

"""Parsing GetResponse results: documented shapes in, typed records out, anything else a typed error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.model import Provider
from gateway.providers.errors import InvalidUpstreamResponse
from gateway.providers.getresponse import AccountCallbacks, Campaign, Contact, DeletedContact, Message

# The two entries of the documented get_contacts_deleted example (DevZone README 1.50).
DOCUMENTED: dict[str, dict[str, Any]] = {
    "4b1b5": {
        "campaign": "CAMPAIGN_ID",
        "name": "My Contact Name",
        "email": "a@example.com",
        "origin": "www",
        "ip": "1.1.1.1",
        "cycle_day": 32,
        "reason": "bounce",
        "created_on": "2010-01-01 00:00:00",
        "deleted_on": "2010-01-02 00:00:00",
    },
    "45bGE": {
        "campaign": "CAMPAIGN_ID",
        "message": "MESSAGE_ID",
        "name": "...",
        "email": "b@example.com",
        "origin": "api",
        "ip": None,
        "cycle_day": None,
        "reason": "other",
        "created_on": "2010-01-01 00:00:00",
        "deleted_on": "2010-01-01 13:14:15",
    },
}


def test_the_documented_deleted_contacts_parse_into_records_keeping_the_raw_entry() -> None:
    records = {record.contact_id: record for record in DeletedContact.parse_map(DOCUMENTED)}

    first, second = records["4b1b5"], records["45bGE"]
    assert first.campaign_id == "CAMPAIGN_ID" and first.message_id is None and first.cycle_day == 32
    assert first.reason == "bounce" and first.origin == "www" and first.ip == "1.1.1.1"
    assert first.deleted_on == datetime(2010, 1, 2, tzinfo=UTC)
    assert second.message_id == "MESSAGE_ID" and second.ip is None and second.cycle_day is None
    assert second.deleted_on == datetime(2010, 1, 1, 13, 14, 15, tzinfo=UTC)
    assert second.created_on.tzinfo is UTC
    assert first.raw == DOCUMENTED["4b1b5"] and second.raw == DOCUMENTED["45bGE"]
    assert DeletedContact.from_entry("45bGE", second.raw) == second


@pytest.mark.parametrize("empty", [{}, []])
def test_an_empty_result_is_no_records_even_written_as_a_php_empty_array(empty: Any) -> None:
    assert DeletedContact.parse_map(empty) == []
    assert Contact.parse_map(empty) == []


def test_pre_1_8_8_numeric_strings_and_iso_timestamps_with_offsets_are_read() -> None:
    entry = {**DOCUMENTED["4b1b5"], "cycle_day": "7", "deleted_on": "2010-01-02T02:00:00+02:00"}

    record = DeletedContact.from_entry("x", entry)

    assert record.cycle_day == 7
    assert record.deleted_on == datetime(2010, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("email", None),
        ("email", 5),
        ("campaign", None),
        ("reason", None),
        ("deleted_on", None),
        ("deleted_on", "yesterday"),
        ("created_on", 1262304000),
        ("created_on", "0001-01-01T00:00:00+01:00"),
        ("cycle_day", "seven"),
        ("cycle_day", True),
        ("message", 12),
        ("name", ["x"]),
    ],
)
def test_a_malformed_field_is_an_invalid_upstream_response(key: str, value: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse, match=key):
        DeletedContact.parse_map({"4b1b5": {**DOCUMENTED["4b1b5"], key: value}})


@pytest.mark.parametrize("result", [None, "ok", 64, [1, 2], {"4b1b5": "not an object"}, {"": {}}])
def test_a_result_that_is_not_a_map_of_objects_is_an_invalid_upstream_response(result: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse):
        DeletedContact.parse_map(result)


def test_contacts_campaigns_and_messages_parse_the_emulator_shapes() -> None:
    (contact,) = Contact.parse_map(
        {"c1": {"campaign": "K1", "name": "Jan", "email": "jan@example.com", "origin": "api", "ip": None,
                "cycle_day": 0, "changed_on": None, "created_on": "2020-05-06 07:08:09"}}
    )  # fmt: skip
    (campaign,) = Campaign.parse_map(
        {"K1": {"name": "shop", "description": None, "is_default": "yes", "optin": "double",
                "from_name": "Shop", "from_email": "s@example.com", "reply_to_email": "r@example.com",
                "created_on": "2019-01-01 00:00:00"}}
    )  # fmt: skip
    (message,) = Message.parse_map(
        {"M1": {"campaign": "K1", "type": "newsletter", "subject": "Hi", "name": None,
                "content_types": ["plain"], "flags": [], "send_on": "2020-01-01 10:00:00",
                "created_on": "2019-12-31 09:00:00"}}
    )  # fmt: skip

    assert (contact.contact_id, contact.campaign_id, contact.cycle_day, contact.changed_on) == (
        "c1",
        "K1",
        0,
        None,
    )
    assert campaign.is_default is True and campaign.optin == "double" and campaign.description is None
    assert campaign.created_on == datetime(2019, 1, 1, tzinfo=UTC)
    assert (message.message_id, message.type, message.name) == ("M1", "newsletter", None)
    assert message.send_on == datetime(2020, 1, 1, 10, tzinfo=UTC)


def test_is_default_must_be_yes_or_no() -> None:
    with pytest.raises(InvalidUpstreamResponse, match="is_default"):
        Campaign.parse_map({"K1": {"name": "x", "is_default": "maybe"}})


def test_account_callbacks_are_none_when_unset_and_typed_when_set() -> None:
    assert AccountCallbacks.parse({}) is None
    assert AccountCallbacks.parse(
        {"uri": "http://x.test/cb", "actions": ["unsubscribe"]}
    ) == AccountCallbacks("http://x.test/cb", ("unsubscribe",))
    with pytest.raises(InvalidUpstreamResponse):
        AccountCallbacks.parse({"uri": "http://x.test/cb", "actions": "unsubscribe"})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_entry = st.fixed_dictionaries(
    {}, optional={key: _json for key in ("campaign", "email", "name", "reason", "created_on", "deleted_on")}
)


@settings(max_examples=100, deadline=None)
@given(result=_json | st.dictionaries(st.text(max_size=8), _entry | _json, max_size=4))
def test_any_json_either_parses_or_is_an_invalid_upstream_response(result: Any) -> None:
    parsers = (DeletedContact.parse_map, Contact.parse_map, Campaign.parse_map, Message.parse_map)
    for parser, record in zip(parsers, (DeletedContact, Contact, Campaign, Message), strict=True):
        try:
            parsed = parser(result)
        except InvalidUpstreamResponse as refused:
            assert refused.provider is Provider.GETRESPONSE and refused.message
            continue
        # Accepted: one record of the right type per entry (an empty result may come as ``[]``).
        assert all(type(value) is record for value in parsed)
        assert len(parsed) == len(result) if isinstance(result, dict) else (parsed == [] and result == [])
    try:
        callbacks = AccountCallbacks.parse(result)
    except InvalidUpstreamResponse as refused:
        assert refused.provider is Provider.GETRESPONSE and refused.message
    else:
        # Nothing configured comes back as an empty result; otherwise a configuration.
        assert type(callbacks) is AccountCallbacks if result else callbacks is None


def test_memberships_read_only_email_and_campaign() -> None:
    from gateway.providers.getresponse.records import memberships

    result = {
        "a": {"email": "Ann@Example.com", "campaign": "c1", "created_on": "garbage"},
        "b": {"email": "bob@example.com", "campaign": "c2"},
    }
    assert memberships(result) == {("ann@example.com", "c1"), ("bob@example.com", "c2")}
    assert memberships([]) == set()
    broken_results = [
        {"a": {"email": "x@y.z"}}, {"a": {"email": None, "campaign": "c"}}, {"a": []}, "nope",
        {"a": {"email": "", "campaign": "c"}}, {"a": {"email": "x@y.z", "campaign": 5}},
        {"a": {"email": 5, "campaign": "c"}}, {"a": {"email": "x@y.z", "campaign": ""}}, {"": {}},
    ]  # fmt: skip
    for broken in broken_results:
        with pytest.raises(InvalidUpstreamResponse):
            memberships(broken)

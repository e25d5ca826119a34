"""Records parse every documented shape, and anything else becomes InvalidUpstreamResponse."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.core.model import Provider
from gateway.providers.constant_contact.records import (
    Activity,
    Contact,
    ContactList,
    ContactListsPage,
    ContactsPage,
)
from gateway.providers.errors import InvalidUpstreamResponse

# The spec's ContactResource example (§5), subresources included.
FULL_CONTACT: dict[str, Any] = {
    "contact_id": "1618ae62-4752-11e9-9c8a-fa163e6b01c1",
    "email_address": {
        "address": "dlang@example.com",
        "permission_to_send": "implicit",
        "created_at": "2016-03-03T10:53:04-05:00",
        "updated_at": "2016-03-03T10:56:29-05:00",
        "opt_in_source": "Contact",
        "opt_in_date": "2016-01-23T13:48:44.108Z",
        "opt_out_source": "Contact",
        "opt_out_date": "2016-01-23T13:48:44.108Z",
        "opt_out_reason": "I am no longer interested in this service.",
        "confirm_status": "confirmed",
    },
    "first_name": "Debora",
    "last_name": "Lang",
    "job_title": "Musician",
    "company_name": "Acme Corp.",
    "birthday_month": 11,
    "birthday_day": 24,
    "anniversary": "2006-11-15",
    "update_source": "Contact",
    "create_source": "Account",
    "created_at": "2016-01-23T13:48:44.108Z",
    "updated_at": "2016-01-23T13:48:44.108Z",
    "deleted_at": "2016-07-08",
    "custom_fields": [{"custom_field_id": "x", "value": "Tesla S 2017", "choice_ids": ["000001"]}],
    "list_memberships": ["07936f78-662a-11eb-af0a-fa163e56c9b0"],
    "taggings": ["e7ddac60-51da-11eb-b3a4-fa163e6b01c1"],
}

# CC's own deleted-contact example [DEL].
DELETED_CONTACT: dict[str, Any] = {
    "contact_id": "7a1e3a2c-3f2b-4f0e-9d7c-8e4a3b2c1d0e",
    "email_address": {
        "address": "example@example.com",
        "permission_to_send": "implicit",
        "created_at": "2013-04-01T15:07:07-04:00",
        "updated_at": "2015-03-17T12:01:31-04:00",
        "opt_in_source": "Account",
        "opt_in_date": "2015-03-17T11:13:28-04:00",
        "confirm_status": "off",
    },
    "first_name": "John",
    "last_name": "Byrd",
    "update_source": "Account",
    "create_source": "Account",
    "created_at": "2013-04-01T15:07:07-04:00",
    "updated_at": "2018-01-25T05:40:30-05:00",
    "deleted_at": "2015-03-17",
    "list_memberships": [],
}

ACTIVITY: dict[str, Any] = {
    "activity_id": "86b90820-cc52-11ea-9dad-fa163e3d9194",
    "state": "processing",
    "started_at": "2020-07-23T12:00:00Z",
    "created_at": "2020-07-23T11:59:59Z",
    "updated_at": "2020-07-23T12:00:01Z",
    "percent_done": 93,
    "activity_errors": ["Message describing the error condition."],
    "status": {"list_count": 4, "items_total_count": 375, "items_completed_count": 351},
    "_links": {"self": {"href": "/v3/activities/86b90820-cc52-11ea-9dad-fa163e3d9194"}},
}


def test_full_contact_parses_every_core_field() -> None:
    contact = Contact.from_json(FULL_CONTACT)
    assert contact.contact_id == "1618ae62-4752-11e9-9c8a-fa163e6b01c1"
    assert (contact.first_name, contact.last_name) == ("Debora", "Lang")
    assert (contact.job_title, contact.company_name) == ("Musician", "Acme Corp.")
    assert (contact.birthday_month, contact.birthday_day, contact.anniversary) == (11, 24, "2006-11-15")
    assert (contact.create_source, contact.update_source) == ("Account", "Contact")
    assert contact.created_at == datetime(2016, 1, 23, 13, 48, 44, 108000, tzinfo=UTC)
    assert contact.deleted_at == date(2016, 7, 8)
    assert contact.list_memberships == ("07936f78-662a-11eb-af0a-fa163e56c9b0",)
    address = contact.email_address
    assert address is not None
    assert address.address == "dlang@example.com"
    assert address.permission_to_send == "implicit"
    assert address.created_at == datetime(2016, 3, 3, 10, 53, 4, tzinfo=timezone(timedelta(hours=-5)))
    assert address.opt_in_source == "Contact"
    assert address.opt_out_source == "Contact"
    assert address.opt_out_reason == "I am no longer interested in this service."
    assert address.confirm_status == "confirmed"
    assert contact.raw == FULL_CONTACT  # the provider's JSON, unchanged


def test_deleted_example_and_minimal_contacts() -> None:
    contact = Contact.from_json(DELETED_CONTACT)
    assert contact.deleted_at == date(2015, 3, 17)
    assert contact.list_memberships == ()
    assert contact.email_address is not None and contact.email_address.opt_out_date is None

    bare = Contact.from_json({"contact_id": "abc", "email_address": None, "deleted_at": None})
    assert bare.email_address is None and bare.deleted_at is None and bare.created_at is None


def test_deleted_at_as_full_timestamp_is_cut_to_its_day() -> None:
    payload = {**DELETED_CONTACT, "deleted_at": "2015-03-17T23:10:00-04:00"}
    assert Contact.from_json(payload).deleted_at == date(2015, 3, 17)


def test_offsetless_timestamps_are_read_as_utc() -> None:
    contact = Contact.from_json({"contact_id": "abc", "created_at": "2020-01-02T03:04:05"})
    assert contact.created_at == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(FULL_CONTACT)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([], id="array"),
        pytest.param("contact", id="string"),
        pytest.param(None, id="null"),
        pytest.param(_broken(("contact_id",), None), id="contact_id-null"),
        pytest.param(_broken(("contact_id",), 12), id="contact_id-int"),
        pytest.param(_broken(("email_address",), "a@b.c"), id="email-string"),
        pytest.param(_broken(("email_address", "address"), None), id="address-missing"),
        pytest.param(_broken(("first_name",), ["x"]), id="name-list"),
        pytest.param(_broken(("birthday_month",), "11"), id="month-string"),
        pytest.param(_broken(("birthday_day",), True), id="day-bool"),
        pytest.param(_broken(("created_at",), 1458000000), id="created-int"),
        pytest.param(_broken(("created_at",), "yesterday"), id="created-garbage"),
        pytest.param(_broken(("deleted_at",), "2015-13-45"), id="deleted-impossible"),
        pytest.param(_broken(("list_memberships",), "07936f78"), id="lists-string"),
        pytest.param(_broken(("list_memberships",), [1, 2]), id="lists-ints"),
        pytest.param(_broken(("email_address", "opt_in_date"), {"at": 1}), id="opt-in-object"),
    ],
)
def test_malformed_contacts_raise_invalid_upstream_response(payload: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse) as caught:
        Contact.from_json(payload)
    assert caught.value.provider is Provider.CONSTANT_CONTACT
    assert caught.value.code == "PROVIDER_INVALID_RESPONSE"


def test_contacts_page() -> None:
    page = ContactsPage.from_json(
        {
            "contacts": [DELETED_CONTACT],
            "contacts_count": 3249,
            "_links": {"next": {"href": "/v3/contacts?cursor=x"}},
        }
    )
    assert [c.contact_id for c in page.contacts] == [DELETED_CONTACT["contact_id"]]
    assert (page.contacts_count, page.next_href) == (3249, "/v3/contacts?cursor=x")

    last = ContactsPage.from_json({"contacts": [], "_links": {}})
    assert (last.contacts, last.contacts_count, last.next_href) == ([], None, None)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"contacts": {}},
        {"contacts": [{"email_address": {}}]},
        {"contacts": [], "contacts_count": "12"},
        {"contacts": [], "_links": []},
        {"contacts": [], "_links": {"next": "/v3/contacts?cursor=x"}},
        {"contacts": [], "_links": {"next": {"href": 5}}},
        [{"contacts": []}],
    ],
)
def test_malformed_pages_raise_invalid_upstream_response(payload: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse):
        ContactsPage.from_json(payload)


def test_activity_reads_counts_from_status() -> None:
    activity = Activity.from_json(ACTIVITY)
    assert activity.activity_id == "86b90820-cc52-11ea-9dad-fa163e3d9194"
    assert (activity.state, activity.percent_done) == ("processing", 93)
    assert (activity.items_total_count, activity.items_completed_count) == (375, 351)
    assert activity.activity_errors == ("Message describing the error condition.",)
    assert activity.created_at == datetime(2020, 7, 23, 11, 59, 59, tzinfo=UTC)
    assert activity.completed_at is None
    assert not activity.done


@pytest.mark.parametrize(
    ("state", "done"),
    [
        ("initialized", False),
        ("processing", False),
        ("completed", True),
        ("cancelled", True),
        ("failed", True),
        ("timed_out", True),
    ],
)
def test_activity_done_means_a_terminal_state(state: str, done: bool) -> None:
    assert Activity.from_json({"activity_id": "a", "state": state}).done is done


@pytest.mark.parametrize(
    "payload",
    [
        {"state": "completed"},
        {"activity_id": "a"},
        {"activity_id": "a", "state": "completed", "status": []},
        {"activity_id": "a", "state": "completed", "status": {"items_total_count": "3"}},
        {"activity_id": "a", "state": "completed", "activity_errors": "boom"},
        {"activity_id": "a", "state": "completed", "percent_done": 1.5},
    ],
)
def test_malformed_activities_raise(payload: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse):
        Activity.from_json(payload)


def test_contact_lists() -> None:
    page = ContactListsPage.from_json(
        {
            "lists": [
                {
                    "list_id": "06526938-56dd-11e9-932a-fa163ea075fa",
                    "name": "Multiple purchases",
                    "description": "List of repeat customers.",
                    "favorite": False,
                    "created_at": "2016-01-23T13:48:44.108Z",
                    "updated_at": "2016-03-03T10:56:29-05:00",
                    "membership_count": 327,
                }
            ],
            "lists_count": 249,
        }
    )
    (item,) = page.lists
    assert (item.list_id, item.name, item.membership_count, item.favorite) == (
        "06526938-56dd-11e9-932a-fa163ea075fa",
        "Multiple purchases",
        327,
        False,
    )
    assert item.description == "List of repeat customers."
    assert page.lists_count == 249 and page.next_href is None
    for broken in ({"list_id": "x"}, {"name": "x"}, {"list_id": "x", "name": "y", "favorite": "no"}):
        with pytest.raises(InvalidUpstreamResponse):
            ContactList.from_json(broken)

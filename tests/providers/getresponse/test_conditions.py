"""``DeletedContactsQuery.to_params``: exactly the documented conditions object, and nothing malformed."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.providers.getresponse import DayRange, DeletedContactsQuery, TextCondition


def test_an_empty_query_is_an_empty_conditions_object() -> None:
    assert DeletedContactsQuery().to_params() == {}


def test_every_condition_has_its_documented_key_and_shape() -> None:
    query = DeletedContactsQuery(
        campaign_ids=("4b1b5", "45bGE"),
        campaign_name=TextCondition("CONTAINS", "shop_%"),
        message_ids=("ZyX",),
        message_name=TextCondition("EQUALS", "Welcome"),
        email=(TextCondition("CONTAINS", "%@example.com"), TextCondition("NOT_EQUALS", "a@example.com")),
        created_on=DayRange(from_day=date(2014, 1, 1), to_day=date(2014, 1, 31)),
        deleted_on=DayRange(from_day=date(2014, 6, 1), to_day=None),
        reason="bounce::mailbox_full",
    )

    assert query.to_params() == {
        "campaigns": ["4b1b5", "45bGE"],
        "get_campaigns": {"name": {"CONTAINS": "shop_%"}},
        "messages": ["ZyX"],
        "get_messages": {"name": {"EQUALS": "Welcome"}},
        "email": {"CONTAINS": "%@example.com", "NOT_EQUALS": "a@example.com"},
        "reason": "bounce::mailbox_full",
        "created_on": {"FROM": "2014-01-01", "TO": "2014-01-31"},
        "deleted_on": {"FROM": "2014-06-01"},
    }


def test_the_keys_the_adapter_copies_into_get_contacts_are_the_documented_ones() -> None:
    params = DeletedContactsQuery(
        campaign_ids=("c1",),
        campaign_name=TextCondition("EQUALS", "x"),
        email=(TextCondition("EQUALS", "e"),),
    ).to_params()

    assert {key: params[key] for key in ("campaigns", "get_campaigns", "email")} == {
        "campaigns": ["c1"],
        "get_campaigns": {"name": {"EQUALS": "x"}},
        "email": {"EQUALS": "e"},
    }


def test_at_is_sent_as_given_and_open_ranges_are_left_out() -> None:
    query = DeletedContactsQuery(
        created_on=DayRange(from_day=None, to_day=None),
        deleted_on=DayRange(None, None, at_day=date(2024, 2, 29)),
    )

    assert query.to_params() == {"deleted_on": {"AT": "2024-02-29"}}


@pytest.mark.parametrize("operator", ["contains", "LIKE", "MATCH", ""])
def test_an_unknown_or_lowercase_text_operator_is_refused(operator: str) -> None:
    with pytest.raises(ValueError, match="unknown text operator"):
        TextCondition(operator, "x")


def test_two_email_conditions_with_one_operator_cannot_share_a_call() -> None:
    with pytest.raises(ValueError, match="one condition per operator"):
        DeletedContactsQuery(email=(TextCondition("CONTAINS", "a%"), TextCondition("CONTAINS", "%b")))


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="starts after it ends"):
        DayRange(from_day=date(2024, 2, 1), to_day=date(2024, 1, 1))


def test_an_empty_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="reason"):
        DeletedContactsQuery(reason="")

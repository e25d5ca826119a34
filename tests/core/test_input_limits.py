"""Input limits: from Settings, and the checks' answers (typed, naming the field, never the value)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from pydantic import ValidationError

from gateway.bootstrap import input_limits
from gateway.config import Settings
from gateway.core.input_limits import InputLimits
from gateway.errors import UserInputError


def test_the_defaults_are_the_settings_defaults() -> None:
    assert input_limits(Settings()) == InputLimits()


def test_every_limit_comes_from_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INPUT_MAX_EMAIL_LENGTH", "100")
    monkeypatch.setenv("MAX_NODES_PER_LOOKUP", "7")
    monkeypatch.setenv("INPUT_EARLIEST_DAY", "2000-01-01")
    limits = input_limits(Settings())
    assert (limits.max_email_length, limits.max_nodes_per_lookup) == (100, 7)
    assert limits.earliest_day == date(2000, 1, 1)
    changed = {f.name for f in dataclasses.fields(InputLimits)} - {
        "max_email_length",
        "max_nodes_per_lookup",
        "earliest_day",
    }
    assert all(getattr(limits, name) == getattr(InputLimits(), name) for name in changed)


def test_an_empty_day_range_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError):
        Settings(input_earliest_day=date(2030, 1, 1), input_latest_day=date(2020, 1, 1))


def test_checks_name_the_field_and_not_the_value() -> None:
    limits = InputLimits(max_email_length=10)
    with pytest.raises(UserInputError) as raised:
        limits.email("secret-address@example.com", "emails[3]")
    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.message == "emails[3]: 26 characters, more than the 10 accepted"
    with pytest.raises(UserInputError, match="must not be empty"):
        limits.email("", "emails[0]")
    assert limits.email("a@b.co", "e") == "a@b.co"


def test_days_outside_the_range_are_refused_and_its_edges_accepted() -> None:
    limits = InputLimits()
    assert limits.check_day(date(1970, 1, 1), "from") == date(1970, 1, 1)
    assert limits.check_day(date(9999, 12, 30), "to") == date(9999, 12, 30)
    for day in (date.min, date(1969, 12, 31), date.max):
        with pytest.raises(UserInputError, match="outside the days accepted"):
            limits.check_day(day, "filter.deletedOn.on")


def test_lists_are_counted_and_each_id_checked() -> None:
    limits = InputLimits(max_list_items=2, max_id_length=3)
    assert limits.provider_ids(["a", "bc"], "ids") == ("a", "bc")
    with pytest.raises(UserInputError, match=r"ids: at most 2 ids per call"):
        limits.provider_ids(["a", "b", "c"], "ids")
    with pytest.raises(UserInputError, match=r"ids\[1\]: 4 characters"):
        limits.provider_ids(["a", "abcd"], "ids")

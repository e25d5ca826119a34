from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from emulators.getresponse.conditions import TextCondition as GetResponseCondition
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.filters import DayRange, DeletedContactFilter, TextCondition, TextOperator
from gateway.core.model import DeletionReason, Provider, ReasonFilter

from .factories import contact


@pytest.mark.parametrize(
    ("operator", "value", "text", "expected"),
    [
        (TextOperator.EQUALS, "ann@example.com", "ANN@Example.COM", True),
        (TextOperator.EQUALS, "ann%", "ann@example.com", False),  # EQUALS is literal: % is not a wildcard
        (TextOperator.EQUALS, "a_n@x.com", "ann@x.com", False),
        (TextOperator.NOT_EQUALS, "ann@example.com", "bob@example.com", True),
        (TextOperator.CONTAINS, "example", "ann@example.com", False),  # LIKE: needs % for substrings
        (TextOperator.CONTAINS, "%example%", "ann@EXAMPLE.com", True),
        (TextOperator.CONTAINS, "a_n@%", "ann@example.com", True),
        (TextOperator.CONTAINS, "a_n@%", "an@example.com", False),
        (TextOperator.CONTAINS, "%+news@%", "ann+news@x.com", True),
        (TextOperator.CONTAINS, "%.com", "ann@x.com.pl", False),
        (TextOperator.NOT_CONTAINS, "%@example.com", "ann@example.org", True),
        (TextOperator.NOT_CONTAINS, "%@example.com", "ann@example.com", False),
        (TextOperator.CONTAINS, "%(x)[y]%", "a(x)[y]b", True),  # regex metacharacters are literal
    ],
)
def test_text_conditions_follow_getresponse_semantics(
    operator: TextOperator, value: str, text: str, expected: bool
) -> None:
    assert TextCondition(operator, value).matches(text) is expected


@given(st.text(min_size=0, max_size=20), st.text(min_size=0, max_size=20))
def test_not_operators_are_exact_negations(value: str, text: str) -> None:
    for positive, negative in (
        (TextOperator.EQUALS, TextOperator.NOT_EQUALS),
        (TextOperator.CONTAINS, TextOperator.NOT_CONTAINS),
    ):
        assert TextCondition(positive, value).matches(text) != TextCondition(negative, value).matches(text)


@given(st.text(alphabet="abc@.%_", max_size=12))
def test_contains_with_surrounding_percent_finds_any_literal_substring(text: str) -> None:
    needle = text[1:3].replace("%", "").replace("_", "")
    assert TextCondition(TextOperator.CONTAINS, f"%{needle}%").matches(text)


def test_day_ranges_are_inclusive_and_reject_inverted_bounds() -> None:
    window = DayRange(date(2024, 1, 1), date(2024, 1, 31))
    assert window.contains(date(2024, 1, 1)) and window.contains(date(2024, 1, 31))
    assert not window.contains(date(2023, 12, 31)) and not window.contains(date(2024, 2, 1))
    assert DayRange.on(date(2024, 1, 5)).contains(date(2024, 1, 5))
    assert not window.contains(None) and DayRange().contains(None)
    with pytest.raises(ValueError):
        DayRange(date(2024, 2, 1), date(2024, 1, 1))


def test_created_day_is_the_utc_day() -> None:
    # 23:30 at UTC-05:00 on 1 March is already 2 March in UTC.
    late = datetime(2024, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    query = DeletedContactFilter(created=DayRange.on(date(2024, 3, 2)))
    assert query.matches(contact(created_at=late))
    assert not query.matches(contact(created_at=datetime(2024, 3, 1, 12, tzinfo=UTC)))


def test_reasons_match_general_reason_and_sub_reasons_match_their_general_reason() -> None:
    bounce = contact(reason=DeletionReason.BOUNCE)
    assert DeletedContactFilter(reasons=frozenset({ReasonFilter.BOUNCE})).matches(bounce)
    assert DeletedContactFilter(reasons=frozenset({ReasonFilter.BOUNCE_MAILBOX_FULL})).matches(bounce)
    assert not DeletedContactFilter(reasons=frozenset({ReasonFilter.COMPLAINT})).matches(bounce)
    unknown = contact(provider=Provider.CONSTANT_CONTACT, reason=DeletionReason.UNKNOWN)
    assert DeletedContactFilter(reasons=frozenset({ReasonFilter.UNKNOWN})).matches(unknown)
    assert not DeletedContactFilter(reasons=frozenset({ReasonFilter.API})).matches(unknown)


def test_campaign_conditions_restrict_to_getresponse() -> None:
    query = DeletedContactFilter(campaign_ids=("abc",))
    assert not query.asks(Provider.CONSTANT_CONTACT)
    assert query.asks(Provider.GETRESPONSE)
    only_cc = DeletedContactFilter(providers=frozenset({Provider.CONSTANT_CONTACT}))
    assert not only_cc.asks(Provider.GETRESPONSE)


def test_cache_key_distinguishes_filters() -> None:
    a = DeletedContactFilter(email=(TextCondition(TextOperator.CONTAINS, "%a%"),))
    b = DeletedContactFilter(email=(TextCondition(TextOperator.CONTAINS, "%b%"),))
    assert a.cache_key() != b.cache_key()
    assert (
        a.cache_key()
        == DeletedContactFilter(email=(TextCondition(TextOperator.CONTAINS, "%a%"),)).cache_key()
    )


def test_reason_parsing_from_provider_values() -> None:
    assert DeletionReason.from_provider("bounce::mailbox_full") is DeletionReason.BOUNCE
    assert DeletionReason.from_provider(None) is DeletionReason.UNKNOWN
    assert DeletionReason.from_provider("something-new") is DeletionReason.OTHER


def test_reasons_decide_which_providers_are_asked() -> None:
    unknown_only = DeletedContactFilter(reasons=frozenset({ReasonFilter.UNKNOWN}))
    assert unknown_only.asks(Provider.CONSTANT_CONTACT) and not unknown_only.asks(Provider.GETRESPONSE)
    complaint = DeletedContactFilter(reasons=frozenset({ReasonFilter.COMPLAINT}))
    assert complaint.asks(Provider.GETRESPONSE) and not complaint.asks(Provider.CONSTANT_CONTACT)
    both = DeletedContactFilter(reasons=frozenset({ReasonFilter.UNKNOWN, ReasonFilter.BOUNCE_MAILBOX_FULL}))
    assert both.asks(Provider.GETRESPONSE) and both.asks(Provider.CONSTANT_CONTACT)


def test_name_conditions_are_like_patterns_on_the_name() -> None:
    ann = contact()  # "Ann Smith"
    nameless = replace(contact("c2"), name=None)
    smith = DeletedContactFilter(name=(TextCondition(TextOperator.CONTAINS, "%SMITH"),))
    assert smith.matches(ann) and not smith.matches(nameless)
    not_smith = DeletedContactFilter(name=(TextCondition(TextOperator.NOT_CONTAINS, "%smith%"),))
    assert not not_smith.matches(ann) and not_smith.matches(nameless)
    assert smith.cache_key() != DeletedContactFilter().cache_key()


def test_checks_contacts_is_false_only_when_matches_cannot_fail() -> None:
    assert not DeletedContactFilter().checks_contacts
    assert not DeletedContactFilter(providers=frozenset({Provider.GETRESPONSE})).checks_contacts
    for query in (
        DeletedContactFilter(email=(TextCondition(TextOperator.CONTAINS, "%"),)),
        DeletedContactFilter(name=(TextCondition(TextOperator.CONTAINS, "%"),)),
        DeletedContactFilter(reasons=frozenset({ReasonFilter.API})),
        DeletedContactFilter(created=DayRange(start=date(2024, 1, 1))),
        DeletedContactFilter(deleted=DayRange(end=date(2024, 1, 1))),
    ):
        assert query.checks_contacts


# Letters whose case folding differs from lower-casing or is several characters: sharp s, the
# Turkish dotted capital I and dotless small i, the fi ligature, final sigma, the Kelvin sign.
_FOLDING = st.sampled_from(
    ["\u00df", "SS", "ss", "\u0130", "i\u0307", "I", "\u0131", "\ufb01", "FI", "\u03a3", "\u03c2", "\u03c3",
     "\u212a", "k", "a", "%", "_"]
)  # fmt: skip


@given(
    text=st.lists(_FOLDING, max_size=6).map("".join),
    value=st.lists(_FOLDING, max_size=4).map("".join),
    operator=st.sampled_from(list(TextOperator)),
)
def test_text_conditions_fold_case_as_getresponse_does(text: str, value: str, operator: TextOperator) -> None:
    """Letters whose case folding is several characters compare as GetResponse compares them: the
    emulator's condition is the reference (it casefolds pattern and text)."""
    reference = GetResponseCondition.parse("name", {operator.value: value})
    assert TextCondition(operator, value).matches(text) == reference.matches(text)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Mihin İhsanoğlu", "%mIHIN i̇%", True),
        ("Große Straße", "%STRASSE%", True),
        ("Ilhan", "\u0131lhan", False),
    ],
)
def test_contains_folds_multi_character_letters(text: str, value: str, expected: bool) -> None:
    assert TextCondition(TextOperator.CONTAINS, value).matches(text) is expected

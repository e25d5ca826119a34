"""The LIKE matcher: the same answers as a regular-expression translation, with bounded work.

The gateway's matcher (``gateway.core.wildcards``) and the emulators' copy (``emulators.wildcards``)
are checked side by side: same algorithm, same bound.
"""

from __future__ import annotations

import re

import pytest
from emulators import wildcards as emulator_wildcards
from hypothesis import given
from hypothesis import strategies as st

from gateway.core import wildcards
from gateway.core.wildcards import LikePattern, StepCounter

# Letters in both cases, the wildcards, address punctuation and characters whose case rules are odd
# (sharp s, dotted capital I, the Kelvin sign): small inputs where every mix of wildcards appears.
ALPHABET = "aAbB%_.@ßİK"


def reference(pattern: str) -> re.Pattern[str]:
    """The translation the gateway used before: one ``.*`` per ``%`` (backtracking)."""
    source = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(source, re.IGNORECASE | re.DOTALL)


def emulator_reference(pattern: str) -> re.Pattern[str]:
    """The emulator's former translation, on casefolded pattern and text."""
    source = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.casefold())
    return re.compile(source, re.DOTALL)


@given(st.text(alphabet=ALPHABET, max_size=10), st.text(alphabet=ALPHABET, max_size=12))
def test_gateway_matcher_agrees_with_the_regex_translation(pattern: str, text: str) -> None:
    assert LikePattern(pattern).matches(text) is (reference(pattern).fullmatch(text) is not None)


@given(st.text(alphabet=ALPHABET, max_size=10), st.text(alphabet=ALPHABET, max_size=12))
def test_emulator_matcher_agrees_with_its_regex_translation(pattern: str, text: str) -> None:
    found = emulator_wildcards.LikePattern(pattern.casefold()).matches(text.casefold())
    assert found is (emulator_reference(pattern).fullmatch(text.casefold()) is not None)


@given(st.text(max_size=8), st.text(max_size=10))
def test_literal_patterns_treat_wildcards_as_characters(value: str, text: str) -> None:
    expected = re.fullmatch(re.escape(value), text, re.IGNORECASE) is not None
    assert LikePattern.literal(value).matches(text) is expected


VALUE = "a" * 240 + "@example.com"  # 252 characters, almost matched by every pattern below

ADVERSARIAL = [
    "%" * 9 + "!",  # the reported one: ~3x slower per % with backtracking
    "%" * 120 + "!",
    "%a" * 60 + "!",
    "%a%" * 40 + "b",
    "_%" * 127,
    "%" + "a" * 100 + "b%",
    "%" + "a_" * 60 + "!%",
    "a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%!",
]


@pytest.mark.parametrize("matcher", [wildcards, emulator_wildcards], ids=["gateway", "emulators"])
@pytest.mark.parametrize("pattern", ADVERSARIAL)
def test_work_is_bounded_by_pattern_times_value(matcher: object, pattern: str) -> None:
    counter = matcher.StepCounter()  # type: ignore[attr-defined]
    matcher.LikePattern(pattern).matches(VALUE, counter)  # type: ignore[attr-defined]
    assert 0 < counter.steps <= len(pattern) * (len(VALUE) + 2)


@pytest.mark.parametrize("matcher", [wildcards, emulator_wildcards], ids=["gateway", "emulators"])
def test_runs_of_percent_cost_one_pass_over_the_value(matcher: object) -> None:
    """``%%%%%%%%%!``: the runs collapse, the one literal segment is searched once, left to right."""
    for count in (1, 9, 30, 200):
        pattern = "%" * count + "!"
        counter = matcher.StepCounter()  # type: ignore[attr-defined]
        assert not matcher.LikePattern(pattern).matches(VALUE, counter)  # type: ignore[attr-defined]
        assert counter.steps <= len(VALUE) + 2  # the same for every count: independent of the runs


@pytest.mark.parametrize("pattern", ["%a%a%a%!", "%" + "a" * 20 + "b%", "%a_a_a%!%"])
def test_work_grows_linearly_with_the_value(pattern: str) -> None:
    def steps(size: int) -> int:
        counter = StepCounter()
        LikePattern(pattern).matches("a" * size, counter)
        return counter.steps

    # Each 1,000 more characters cost the same extra work (an affine function of the size, not a
    # quadratic or exponential one), and at most len(pattern) comparisons per character.
    growth = [steps(2_000) - steps(1_000), steps(3_000) - steps(2_000), steps(4_000) - steps(3_000)]
    assert growth[0] == growth[1] == growth[2] <= len(pattern) * 1_000, growth


@given(
    st.text(alphabet="ab%_", min_size=1, max_size=254),
    st.text(alphabet="ab", min_size=0, max_size=254),
)
def test_random_patterns_stay_within_the_stated_bound(pattern: str, text: str) -> None:
    counter = StepCounter()
    expected = reference(pattern).fullmatch(text) is not None if pattern.count("%") < 6 else None
    found = LikePattern(pattern).matches(text, counter)
    assert counter.steps <= len(pattern) * (len(text) + 2)
    if expected is not None:
        assert found is expected

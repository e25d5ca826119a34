"""SQL ``LIKE`` matching (``%`` any run, ``_`` one character) without backtracking.

A pattern is split on ``%`` into segments: fixed-length runs of literal characters and ``_``.  The
first segment must sit at the start of the value, the last at its end, and every middle segment is
placed at its leftmost occurrence after the one before it.  Because ``%`` is the only
variable-length wildcard, leftmost placement never loses a match: any placement of the middle
segments that works can be slid left, one segment at a time, onto the leftmost one.

Each segment is searched once, left to right, inside a window that starts where the previous segment
ended, so the windows never overlap.  A segment search is a compiled regular expression without
quantifiers (literal characters and ``.``), run in C, which tries each start position in its window
at most once and compares at most the segment's length there.  The work is therefore at most
``len(pattern) * (len(value) + 1)`` character comparisons, whatever the pattern, and linear in
``len(value)`` for a fixed pattern.  Backtracking regular expressions (``.*`` per ``%``) take time
exponential in the number of ``%`` on a value that almost matches.

Comparison is exact: case-insensitive callers hand in casefolded pattern and text
(``filters.TextCondition``), since folding may change a text's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LikePattern", "StepCounter"]

_FLAGS = re.DOTALL


class StepCounter:
    """Counts an upper bound on the character comparisons a match did (for tests and benchmarks).

    A search that stopped at position ``p`` after starting at ``s`` tried ``p - s + 1`` start
    positions; each costs at most the segment's length in comparisons.
    """

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0


@dataclass(frozen=True, slots=True)
class _Segment:
    length: int
    regex: re.Pattern[str]

    @classmethod
    def of(cls, text: str, *, wildcards: bool) -> _Segment:
        if wildcards:
            source = "".join("." if char == "_" else re.escape(char) for char in text)
        else:
            source = re.escape(text)
        return cls(len(text), re.compile(source, _FLAGS))


class LikePattern:
    """A compiled ``LIKE`` pattern; :meth:`matches` is true when it matches the WHOLE text."""

    __slots__ = ("_exact", "_first", "_last", "_middle", "_shortest")

    def __init__(self, pattern: str) -> None:
        if "%" not in pattern:
            self._exact: _Segment | None = _Segment.of(pattern, wildcards=True)
            parts: list[str] = []
        else:
            self._exact = None
            parts = pattern.split("%")  # runs of % leave empty parts, dropped below
        self._first = _Segment.of(parts[0], wildcards=True) if parts else None
        self._last = _Segment.of(parts[-1], wildcards=True) if parts else None
        self._middle = tuple(_Segment.of(part, wildcards=True) for part in parts[1:-1] if part)
        self._shortest = sum(len(part) for part in parts)

    @classmethod
    def literal(cls, text: str) -> LikePattern:
        """A pattern in which ``%`` and ``_`` are ordinary characters (``EQUALS``)."""
        literal = cls.__new__(cls)
        literal._exact = _Segment.of(text, wildcards=False)
        literal._first = literal._last = None
        literal._middle = ()
        literal._shortest = len(text)
        return literal

    def matches(self, text: str, counter: StepCounter | None = None) -> bool:
        size = len(text)
        exact = self._exact
        if exact is not None:
            if size != exact.length:
                return False
            if counter is not None:
                counter.steps += exact.length
            return exact.regex.match(text) is not None
        if size < self._shortest:
            return False
        first, last = self._first, self._last
        assert first is not None and last is not None
        if counter is not None:
            counter.steps += first.length + last.length
        if first.length and first.regex.match(text) is None:
            return False
        end = size - last.length
        if last.length and last.regex.match(text, end) is None:
            return False
        position = first.length
        for segment in self._middle:
            found = segment.regex.search(text, position, end)
            if counter is not None:
                stop = found.start() if found is not None else end - segment.length
                counter.steps += max(0, stop - position + 1) * segment.length
            if found is None:
                return False
            position = found.end()
        return True

"""SQL ``LIKE`` matching for the emulators (``%`` any run, ``_`` one character), without backtracking.

The same algorithm as the gateway's matcher, kept as a small copy here because the emulators stand
apart from the gateway's internals: the pattern is split on ``%`` into fixed-length segments; the
first is anchored at the start, the last at the end, and each middle segment is placed at its leftmost
occurrence after the previous one (correct because ``%`` is the only variable-length wildcard).  Each
segment is one quantifier-free regular expression searched once over a window that begins where the
previous segment ended, so a match costs at most ``len(pattern) * (len(value) + 2)`` character
comparisons; a backtracking ``.*`` per ``%`` would take time exponential in the number of ``%``.

Comparison is exact: the GetResponse emulator hands in casefolded pattern and text, which is how it
makes text operators case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LikePattern", "StepCounter"]


class StepCounter:
    """An upper bound on the character comparisons of the matches it was passed to."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0


@dataclass(frozen=True, slots=True)
class _Segment:
    length: int
    regex: re.Pattern[str]

    @classmethod
    def of(cls, text: str) -> _Segment:
        source = "".join("." if char == "_" else re.escape(char) for char in text)
        return cls(len(text), re.compile(source, re.DOTALL))


class LikePattern:
    """A compiled ``LIKE`` pattern; :meth:`matches` is true when it matches the WHOLE text."""

    __slots__ = ("_first", "_last", "_middle", "_shortest", "_split")

    def __init__(self, pattern: str) -> None:
        self._split = "%" in pattern
        parts = pattern.split("%")  # runs of % leave empty middle parts, dropped below
        self._first = _Segment.of(parts[0])
        self._last = _Segment.of(parts[-1])
        self._middle = tuple(_Segment.of(part) for part in parts[1:-1] if part)
        self._shortest = sum(len(part) for part in parts)

    def matches(self, text: str, counter: StepCounter | None = None) -> bool:
        size = len(text)
        first, last = self._first, self._last
        if not self._split:
            if counter is not None:
                counter.steps += first.length
            return size == first.length and first.regex.match(text) is not None
        if size < self._shortest:
            return False
        if counter is not None:
            counter.steps += first.length + last.length
        end = size - last.length
        if first.length and first.regex.match(text) is None:
            return False
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

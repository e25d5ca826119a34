"""Docstrings and comments say what and why: no measured figures, no citations of files outside the repo.

A figure in a docstring goes stale the day the code around it changes, and nobody re-measures a
docstring; measurements live in BENCHMARKS.md, which ``make bench`` rewrites.  A comment that cites
a notes file the repository does not hold sends the reader nowhere.  Only docstrings (modules,
classes, functions) and ``#`` comments are read: string literals that are program output (the
benchmark report's text, for instance) are not prose about the code.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gateway", "sandbox", "bench")

# A duration or a speed-up quoted as a number: "0.4 ms", "48 us", "14x faster", "3 times slower".
MEASURED = re.compile(
    r"\d(?:[\d,.]*\d)?\s*(?:ms|µs|us|ns|milliseconds?|microseconds?)\b"
    r"|\d(?:[\d,.]*\d)?\s*(?:x|\u00d7|times)\s+(?:faster|slower|cheaper|more expensive|quicker)\b",
    re.IGNORECASE,
)
# Files that live beside the repository (research notes), never in it.
OUTSIDE_FILE = re.compile(r"notes\.md|specs/|\bshared/|\.notes\b|\bNOTES\b")


def prose(source: str) -> list[tuple[int, str]]:
    """(line, text) of every ``#`` comment and every module, class and function docstring."""
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                first = node.body[0].lineno
                found.extend((first + offset, line) for offset, line in enumerate(docstring.splitlines()))
    return found


def _offences(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in prose(path.read_text())
        if pattern.search(text)
    ]


def test_no_docstring_or_comment_quotes_a_measured_figure() -> None:
    assert _offences(MEASURED) == []


def test_no_docstring_or_comment_cites_a_file_outside_the_repository() -> None:
    assert _offences(OUTSIDE_FILE) == []


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("(measured: 48 against 89 us for 50 of 297)", True),
        ("about 0.2 ms of each request", True),
        ("14x faster than json", True),
        ("see strawberry-notes.md gotcha 3", True),
        ("the research notes ``shared/specs/getresponse-1.5.md``", True),
        ("one POST up to 1 MiB, the documented maximum", False),
        ("retried with capped exponential backoff (429s)", False),
        ("custom fields, tags and notes for", False),
    ],
)
def test_the_patterns_catch_figures_and_citations_and_nothing_else(text: str, caught: bool) -> None:
    source = f'"""{text}"""\n\n# {text}\n'
    hits = [line for line, found in prose(source) if MEASURED.search(found) or OUTSIDE_FILE.search(found)]
    assert sorted(hits) == ([1, 3] if caught else [])

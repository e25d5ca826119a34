"""What Hive Gateway's own log says about the errors its clients saw.

Hive Gateway masks unexpected errors in its answers (``"Unexpected error."``), so the cause of a failed
peer request is only in its log: one ``ERR`` entry per failed field, with the upstream's ``message`` and
the ``serviceName`` (subgraph) it came from.  :func:`error_causes` counts them.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["error_causes"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ENTRY = re.compile(r"^\S+ ERR\b", re.MULTILINE)
_MESSAGE = re.compile(r'^\s*message:\s*"(.*)"\s*$', re.MULTILINE)
_SERVICE = re.compile(r'^\s*serviceName:\s*"(.*)"\s*$', re.MULTILINE)
_NEXT_ENTRY = re.compile(r"^\S+ [A-Z]{3}\b", re.MULTILINE)


def error_causes(log_text: str) -> Counter[str]:
    """``"<subgraph>: <message>"`` (or the message alone) of every ``ERR`` entry, counted."""
    text = _ANSI.sub("", log_text)
    found: Counter[str] = Counter()
    for start in _ENTRY.finditer(text):
        following = _NEXT_ENTRY.search(text, start.end())
        block = text[start.end() : following.start() if following else len(text)]
        message = _MESSAGE.search(block)
        service = _SERVICE.search(block)
        cause = message.group(1) if message else "(no message)"
        found[f"{service.group(1)}: {cause}" if service else cause] += 1
    return found

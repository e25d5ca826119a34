"""``LazyRecord``: a provider's record that is parsed only when something reads it.

The first page of a listing reads every matching deleted contact from each provider (thousands, in a
large account) to merge them in one order, but shows only a page of them.  The adapters therefore
map each entry to the provider-neutral model from the few fields the listing needs, and put the full
typed record in ``DeletedContact.source`` as a ``LazyRecord``: it is parsed (with all of the record
parser's validation) when a provider-specific GraphQL field or a restore first reads it, typically
for the 50 contacts of a page instead of all of them.  Readers that read many fields take the parsed
record once (``DeletedContact.record``, :func:`parsed`) instead of going through the proxy each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["LazyRecord", "parsed"]

T = TypeVar("T")


class LazyRecord(Generic[T]):
    """Attribute reads are forwarded to ``parse()``'s result, computed once."""

    __slots__ = ("_parse", "_record")

    def __init__(self, parse: Callable[[], T]) -> None:
        self._parse: Callable[[], T] | None = parse
        self._record: T | None = None

    @property
    def record(self) -> T:
        if self._parse is not None:
            self._record = self._parse()
            self._parse = None
        return self._record  # type: ignore[return-value]  # set above, before _parse was dropped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)

    def __repr__(self) -> str:
        state = "parsed" if self._parse is None else "not parsed yet"
        return f"LazyRecord({state})"


def parsed(value: Any) -> Any:
    """``value``, or the record it parses to if it is a :class:`LazyRecord`."""
    return value.record if type(value) is LazyRecord else value

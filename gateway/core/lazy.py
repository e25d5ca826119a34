"""``LazyRecord``: a provider's record that is parsed only when something reads it.

A first page reads every matching deleted contact from each provider (thousands, in a large
account) but maps only those it shows or filters on.  An entry of the common shape is then parsed
whole, in one pass.  Any other entry is mapped from the few fields the provider-neutral model needs,
and its full typed record goes in ``DeletedContact.source`` as a ``LazyRecord``: it is parsed, with
all of the record parser's validation, when a provider-specific GraphQL field or a restore first
reads it, so a fault in such a field fails only the reads of that contact.  Readers that read many
fields take the parsed record once (``DeletedContact.record``, :func:`parsed`) instead of going
through the proxy each time.
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

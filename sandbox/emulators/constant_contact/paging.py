"""Opaque cursors for ``_links.next.href``: the page's query plus where the next page starts.

A cursor is the URL-safe base64 (unpadded) of a query string: the collection's own parameters as the
client first sent them, plus ``next=<id>``, the id of the first record of the next page (the shape of
CC's only documented cursor, base64 of ``limit=1&next=<uuid>``).  The href is host-relative and carries
nothing but the cursor: ``/v3/contacts?cursor=...`` (whether CC keeps other parameters in the href is
UNCONFIRMED; clients must follow it verbatim either way).  A ``limit`` sent next to a cursor overrides
the cursor's; any other parameter next to a cursor is ignored.

Records page in a fixed order (creation order) that never changes, and a page starts at the anchor's
place in it, not at an offset: a record deleted, restored or created between two requests therefore
never shifts another one into or out of the next page.  The anchor itself may no longer match the
query by then; it is simply skipped like any other non-matching record.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import QueryParams

from .errors import validation_error
from .ids import normalized_uuid

__all__ = ["next_link", "read_paged_query"]

_ANCHOR = "next"


def _encode(values: dict[str, str], anchor: str) -> str:
    query = urlencode([*values.items(), (_ANCHOR, anchor)])
    return base64.urlsafe_b64encode(query.encode()).decode().rstrip("=")


def _decode(cursor: str, names: tuple[str, ...]) -> tuple[dict[str, str], str]:
    invalid = validation_error("cursor is invalid.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        query = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    values = dict(pairs)
    anchor = normalized_uuid(values.pop(_ANCHOR, None))
    if anchor is None or len(values) != len(pairs) - 1 or not set(values) <= set(names):
        raise invalid
    return values, anchor


def read_paged_query(params: QueryParams, names: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """The collection parameters in force (from the cursor when there is one) and the page's anchor.

    A parameter given with an empty or blank value (``email=``) is a 400, not "no filter": CC does not
    document what it does with one, and of the plausible readings, ignoring the filter would let a
    client that sends ``email=`` by mistake list (and then act on) the whole account.  Refusing it
    makes such a client fail in every test instead of silently widening its query.
    """
    cursor = params.get("cursor")
    if cursor is not None and not cursor.strip():
        raise validation_error("cursor must not be empty.")
    if cursor:
        values, anchor = _decode(cursor, names)
        if params.get("limit"):
            values["limit"] = params["limit"]
        return values, anchor
    values = {}
    empty = []
    for name in names:
        given = params.getlist(name)
        if any(not value.strip() for value in given):
            empty.append(f"{name} must not be empty.")
        elif given:
            values[name] = ",".join(given)
    if empty:
        raise validation_error(*empty)
    return values, None


def next_link(path: str, values: dict[str, str], anchor: str) -> dict[str, dict[str, str]]:
    return {"next": {"href": f"{path}?cursor={_encode(values, anchor)}"}}

"""Comparing whole GraphQL response bodies: every executed request reports its cost in
``extensions.cost``, which a test about something else sets aside with :func:`without_cost`."""

from __future__ import annotations

from typing import Any


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without ``extensions.cost`` (checked to be there and well-formed)."""
    extensions = body.get("extensions")
    assert extensions is not None and set(extensions["cost"]) == {"requested", "limit"}, body
    rest = {key: value for key, value in extensions.items() if key != "cost"}
    trimmed = {key: value for key, value in body.items() if key != "extensions"}
    if rest:
        trimmed["extensions"] = rest
    return trimmed

"""Reading query parameters the way the Swagger declares them, collecting every problem at once.

CC answers a bad query with a 400 whose body lists the errors, so the reader does not stop at the first
one: each accessor records what is wrong and returns a neutral value, and ``finish`` raises one
``validation_error`` carrying them all.

Conventions (UNCONFIRMED where CC does not say): a parameter given twice counts as its values joined by
commas (``format: csv``); a collection parameter given with an empty value is refused before it gets
here (``paging.read_paged_query``: the least forgiving reading, so a client cannot rely on an empty
``email=`` meaning "no filter"); unknown parameters are ignored;
date-times are ISO-8601 with ``Z``, an offset, or none (read as UTC), and a bare date means its
midnight UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from .errors import validation_error
from .ids import normalized_uuid

__all__ = ["QueryReader", "parse_moment"]


def parse_moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class QueryReader:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.errors: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None

    def csv(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
        value = self.raw(name)
        if value is None:
            return None
        items = tuple(dict.fromkeys(item.strip() for item in value.split(",")))
        if not items or not all(item in allowed for item in items):
            self.errors.append(f"{name} must be a comma-separated list of: {', '.join(allowed)}.")
            return None
        return items

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.raw(name)
        if value is not None and value not in allowed:
            self.errors.append(f"{name} must be one of: {', '.join(allowed)}.")
            return None
        return value

    def integer(self, name: str, *, minimum: int, maximum: int, default: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
            self.errors.append(f"{name} must be an integer from {minimum} through {maximum}.")
            return default
        return int(value)

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            self.errors.append(f"{name} must be true or false.")
            return False
        return value.lower() == "true"

    def moment(self, name: str) -> datetime | None:
        value = self.raw(name)
        if value is None:
            return None
        moment = parse_moment(value)
        if moment is None:
            self.errors.append(f"{name} must be an ISO-8601 date-time.")
        return moment

    def uuids(self, name: str, *, max_items: int) -> frozenset[str] | None:
        value = self.raw(name)
        if value is None:
            return None
        items = [normalized_uuid(item.strip()) for item in value.split(",")]
        if not all(items):
            self.errors.append(f"{name} must be a comma-separated list of ids.")
            return None
        if len(items) > max_items:
            self.errors.append(f"{name} accepts at most {max_items} ids.")
            return None
        return frozenset(item for item in items if item)

    def reject(self, name: str, reason: str) -> None:
        if self.raw(name) is not None:
            self.errors.append(f"{name} {reason}")

    def finish(self) -> None:
        if self.errors:
            raise validation_error(*self.errors)

"""Reading JSON request bodies against the Swagger's request definitions, collecting every problem.

Like ``params.QueryReader``, each accessor records what is wrong and returns None, and ``finish``
raises one 400 listing all of it.  Field names in messages are dotted paths (``email_address.address``,
``street_addresses[1].kind``).

Conventions: unknown and read-only fields are ignored (the safe client pattern is to GET a contact and
PUT it back whole, ``contact_id``, timestamps and all); a blank string counts as a left-out value (a PUT
overwrites blank core fields with null); ``null`` is the same as absent.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .errors import validation_error
from .ids import normalized_uuid

__all__ = ["BodyReader", "valid_email"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# MM/DD/YYYY, M/D/YYYY, MM-DD-YYYY, M-D-YYYY and YYYY/MM/DD, YYYY/M/D, YYYY-MM-DD, YYYY-M-D.
_MONTH_FIRST = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})([/-])(\d{1,2})\2(\d{1,2})")


def valid_email(address: str) -> bool:
    return bool(_EMAIL.fullmatch(address))


class BodyReader:
    def __init__(self, payload: dict[str, Any], path: str = "", errors: list[str] | None = None) -> None:
        self.payload = payload
        self.path = path
        self.errors: list[str] = [] if errors is None else errors

    def name(self, field: str) -> str:
        return f"{self.path}{field}"

    def present(self, field: str) -> bool:
        return self.payload.get(field) is not None

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def string(self, field: str, *, max_length: int, required: bool = False) -> str | None:
        value = self.payload.get(field)
        if value is None or value == "":
            if required:
                self.fail(f"{self.name(field)} is required.")
            return None
        if not isinstance(value, str):
            self.fail(f"{self.name(field)} must be a string.")
            return None
        if len(value) > max_length:
            self.fail(f"{self.name(field)} must be at most {max_length} characters long.")
            return None
        return value

    def choice(self, field: str, allowed: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.payload.get(field)
        if value is None:
            if required:
                self.fail(f"{self.name(field)} is required.")
            return None
        if value not in allowed:
            self.fail(f"{self.name(field)} must be one of: {', '.join(allowed)}.")
            return None
        return str(value)

    def integer(self, field: str, *, minimum: int, maximum: int) -> int | None:
        value = self.payload.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.fail(f"{self.name(field)} must be an integer from {minimum} through {maximum}.")
            return None
        return value

    def anniversary(self, field: str) -> str | None:
        """An anniversary in one of the documented formats, normalized to ``YYYY-MM-DD``."""
        value = self.string(field, max_length=10)
        if value is None:
            return None
        if found := _MONTH_FIRST.fullmatch(value):
            month, day, year = found.group(1, 3, 4)
        elif found := _YEAR_FIRST.fullmatch(value):
            year, month, day = found.group(1, 3, 4)
        else:
            self.fail(f"{self.name(field)} must be a date such as MM/DD/YYYY or YYYY-MM-DD.")
            return None
        try:
            return date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            self.fail(f"{self.name(field)} is not a valid date.")
            return None

    def email(self, field: str, *, max_length: int = 80, required: bool = False) -> str | None:
        value = self.string(field, max_length=max_length, required=required)
        if value is not None and not valid_email(value):
            self.fail(f"{self.name(field)} is not a valid email address.")
            return None
        return value

    def uuid(self, field: str, *, required: bool = False) -> str | None:
        value = self.payload.get(field)
        if value is None:
            if required:
                self.fail(f"{self.name(field)} is required.")
            return None
        identifier = normalized_uuid(value)
        if identifier is None:
            self.fail(f"{self.name(field)} must be an id in UUID format.")
        return identifier

    def uuids(self, field: str, *, max_items: int, min_items: int = 0) -> list[str] | None:
        value = self.payload.get(field)
        if value is None:
            if min_items:
                self.fail(f"{self.name(field)} is required.")
            return None
        if not isinstance(value, list):
            self.fail(f"{self.name(field)} must be an array of ids.")
            return None
        ids = [normalized_uuid(item) for item in value]
        if not all(ids):
            self.fail(f"{self.name(field)} must contain only ids in UUID format.")
            return None
        if not min_items <= len(ids) <= max_items:
            self.fail(f"{self.name(field)} must contain from {min_items} through {max_items} ids.")
            return None
        return list(dict.fromkeys(item for item in ids if item))

    def strings(self, field: str) -> list[str] | None:
        value = self.payload.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(f"{self.name(field)} must be an array of strings.")
            return None
        return list(value)

    def nested(self, field: str) -> BodyReader | None:
        value = self.payload.get(field)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(f"{self.name(field)} must be an object.")
            return None
        return BodyReader(value, f"{self.name(field)}.", self.errors)

    def nested_list(self, field: str, *, max_items: int) -> list[BodyReader] | None:
        value = self.payload.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(f"{self.name(field)} must be an array of objects.")
            return None
        if len(value) > max_items:
            self.fail(f"{self.name(field)} accepts at most {max_items} items.")
            return None
        return [
            BodyReader(item, f"{self.name(field)}[{index}].", self.errors) for index, item in enumerate(value)
        ]

    def finish(self) -> None:
        if self.errors:
            raise validation_error(*self.errors)

"""How one GetResponse 1.5 emulator instance is built and how it answers the UNCONFIRMED corners.

The data knobs (``seed``, ``contacts``, ``deleted_fraction``, ``campaigns``, ``messages_per_campaign``)
decide the seeded account.  ``contacts`` counts every contact record ever created: the active ones plus
the deletion history.  The defaults give about 700 active contacts and 300 deletion records; for the
"10,000 deleted contacts" data set use ``contacts=30000, deleted_fraction=0.34``.
``round(contacts * deleted_fraction)`` records are removals and ``get_contacts_deleted`` lists all
but the earlier removals of repeated addresses (one in a hundred): ``removals - max(1, removals //
100)``.  ``with_deleted(n)`` gives the smallest account listing at least ``n`` (``contacts=1122334,
deleted_fraction=0.9`` lists exactly a million, about half a minute to seed).

Large accounts: ``json_cache_removals`` removals at most keep their serialized entry between reads;
past it, entries are serialized on every read, so a sync reading a million removals leaves the
emulator's memory as it was.  From ``gc_freeze_from_contacts`` records on, the seeded account is
frozen out of the garbage collector's full passes (``emulators.large``).

The behaviour switches exist because GetResponse's documentation and the client libraries written
against it leave these points open, and a client has to cope with either answer:

- ``bad_key_http_status``: 200 (the JSON-RPC error ``-1 API key verification failed``) or 403 (what the
  2010 Ruby gem expected).  Either way the body is the JSON-RPC error.
- ``v2_success_includes_null_error``: whether a JSON-RPC 2.0 success reply also carries ``"error": null``.
- ``get_contact_missing_as_empty``: ``get_contact`` on a missing or deleted id answers ``{}`` instead of
  the ``Missing contact`` error.
- ``accept_matches_operator``: the 2012 ``MATCHES`` (regular expression) text operator, dropped from the
  1.50 operator list but still sent by the Ruby and PHP wrappers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["GetResponseEmulatorSettings"]


@dataclass(frozen=True, slots=True)
class GetResponseEmulatorSettings:
    seed: int = 42
    contacts: int = 1000
    deleted_fraction: float = 0.3
    campaigns: int = 6
    messages_per_campaign: int = 8
    api_keys: tuple[str, ...] = ("demo-gr-api-key",)
    account_login: str = "demo_account"
    bad_key_http_status: int = 200
    v2_success_includes_null_error: bool = False
    get_contact_missing_as_empty: bool = False
    accept_matches_operator: bool = False
    confirmation_delay_seconds: float = 30.0
    callback_timeout_seconds: float = 4.0
    max_request_bytes: int = 1_048_576
    gzip_minimum_bytes: int | None = 1024  # None: never gzip
    json_cache_removals: int = 100_000
    gc_freeze_from_contacts: int = 100_000

    @property
    def listed_deleted(self) -> int:
        """How many entries ``get_contacts_deleted`` lists for the seeded account (see above)."""
        removals = round(self.contacts * self.deleted_fraction)
        return removals - (max(1, removals // 100) if removals >= 2 else 0)

    @classmethod
    def with_deleted(
        cls, count: int, *, deleted_fraction: float = 0.9, **overrides: Any
    ) -> GetResponseEmulatorSettings:
        """The smallest account whose ``get_contacts_deleted`` lists at least ``count`` entries."""
        if not 0.0 < deleted_fraction <= 1.0:
            raise ValueError("deleted_fraction must be above 0 and at most 1")
        contacts = max(0, math.floor(count / deleted_fraction) - 2)
        while cls(contacts=contacts, deleted_fraction=deleted_fraction).listed_deleted < count:
            contacts += 1
        return cls(contacts=contacts, deleted_fraction=deleted_fraction, **overrides)

    def __post_init__(self) -> None:
        if self.contacts < 0:
            raise ValueError("contacts must not be negative")
        if not 0.0 <= self.deleted_fraction <= 1.0:
            raise ValueError("deleted_fraction must be between 0 and 1")
        if self.campaigns < 1:
            raise ValueError("at least one campaign is needed")
        if self.messages_per_campaign < 0:
            raise ValueError("messages_per_campaign must not be negative")
        if self.json_cache_removals < 0 or self.gc_freeze_from_contacts < 0:
            raise ValueError("json_cache_removals and gc_freeze_from_contacts must not be negative")
        if self.bad_key_http_status not in (200, 403):
            raise ValueError("bad_key_http_status must be 200 or 403")
        if self.confirmation_delay_seconds < 0 or self.callback_timeout_seconds <= 0:
            raise ValueError("delays must not be negative and the callback timeout must be positive")

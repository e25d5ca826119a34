"""How one Constant Contact v3 emulator instance is built and how it answers the UNCONFIRMED corners.

The data knobs (``seed``, ``contacts``, ``deleted_fraction``, ``lists``) decide the seeded account.
``contacts`` counts every contact, deleted ones included: the defaults give 700 live contacts and 300
deleted ones.  For the "10,000 deleted contacts" account use ``contacts=30000, deleted_fraction=0.34``;
``round(contacts * deleted_fraction)`` contacts are deleted; ``with_deleted(n)`` gives the smallest
account with at least ``n`` deleted contacts (``contacts=1111111, deleted_fraction=0.9`` for exactly a
million, about half a minute to seed).

Large accounts: ``json_cache_contacts`` contacts at most keep their serialized JSON between reads (a
page read again is then a join of cached bytes); past it, pages are serialized on every read, so a
sync reading a million contacts leaves the emulator's memory as it was.  From
``gc_freeze_from_contacts`` contacts on, the seeded account is frozen out of the garbage collector's
full passes (``emulators.large``).

Credentials: ``access_tokens`` are accepted as Bearer tokens from the start and never expire by time
(only ``POST /_emulator/tokens/expire`` ends them).  The token endpoint takes ``client_id`` /
``client_secret`` and one of ``refresh_tokens`` and mints new access tokens that live
``access_token_lifetime_seconds`` on the emulator clock (24 h, what CC support states).  With
``rotate_refresh_tokens`` every refresh also replaces the refresh token, otherwise it stays valid
("long lived").  None of these values appears in a repr.

Limits (documented): ``requests_per_second`` per access token (a token bucket holding
``rate_limit_burst`` requests, by default the per-second rate) and ``daily_quota`` requests per token
per UTC day.  Test suites that do not test limits should raise ``requests_per_second``.

Bulk activities spend ``activity_initialized_seconds`` in ``initialized`` and then
``activity_processing_seconds`` in ``processing``, items being applied evenly over that time.

The behaviour switches exist because Constant Contact's documentation (its API reference and the
Swagger file in ``tests/fixtures/``) leaves these points open, and a client has to cope with either answer:

- ``delete_deleted_contact_status``: DELETE of an already-deleted contact answers 204 (nothing changes)
  or 404.
- ``always_include_count``: ``contacts_count`` is in every ``GET /contacts`` answer, not only with
  ``include_count=true``.
- ``put_without_email``: a PUT without ``email_address`` is ``"reject"`` -ed (400), ``"clear"`` -s the
  address (it is a core field, and left-out core fields become null), or ``"keep"`` -s it.
- ``confirmed_opt_in``: the account's Confirmed Opt-In setting, which decides whether ``sign_up_form``
  creates contacts as ``pending_confirmation`` or ``explicit``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PUT_WITHOUT_EMAIL_CHOICES", "ConstantContactEmulatorSettings"]

PUT_WITHOUT_EMAIL_CHOICES = ("reject", "clear", "keep")


@dataclass(frozen=True, slots=True)
class ConstantContactEmulatorSettings:
    seed: int = 42
    contacts: int = 1000
    deleted_fraction: float = 0.3
    lists: int = 8
    access_tokens: tuple[str, ...] = field(default=("demo-cc-access-token",), repr=False)
    client_id: str = "demo-cc-client"
    client_secret: str = field(default="demo-cc-secret", repr=False)
    refresh_tokens: tuple[str, ...] = field(default=("demo-cc-refresh-token",), repr=False)
    access_token_lifetime_seconds: float = 86_400.0
    rotate_refresh_tokens: bool = False
    requests_per_second: float = 4.0
    rate_limit_burst: int | None = None  # None: the per-second rate, rounded down, at least 1
    daily_quota: int = 10_000
    activity_initialized_seconds: float = 0.5
    activity_processing_seconds: float = 1.5
    activity_retention_days: int = 10
    delete_deleted_contact_status: int = 204
    always_include_count: bool = False
    put_without_email: str = "reject"
    confirmed_opt_in: bool = False
    json_cache_contacts: int = 100_000
    gc_freeze_from_contacts: int = 100_000

    def __post_init__(self) -> None:
        if self.contacts < 0:
            raise ValueError("contacts must not be negative")
        if not 0.0 <= self.deleted_fraction <= 1.0:
            raise ValueError("deleted_fraction must be between 0 and 1")
        if not 1 <= self.lists <= 1000:
            raise ValueError("an account has between 1 and 1,000 lists")
        if self.requests_per_second <= 0 or self.daily_quota < 0:
            raise ValueError("requests_per_second must be positive and daily_quota not negative")
        if self.rate_limit_burst is not None and self.rate_limit_burst < 1:
            raise ValueError("rate_limit_burst must be at least 1")
        if min(self.activity_initialized_seconds, self.activity_processing_seconds) < 0:
            raise ValueError("activity timings must not be negative")
        if self.access_token_lifetime_seconds <= 0 or self.activity_retention_days < 1:
            raise ValueError("token lifetime and activity retention must be positive")
        if self.delete_deleted_contact_status not in (204, 404):
            raise ValueError("delete_deleted_contact_status must be 204 or 404")
        if self.json_cache_contacts < 0 or self.gc_freeze_from_contacts < 0:
            raise ValueError("json_cache_contacts and gc_freeze_from_contacts must not be negative")
        if self.put_without_email not in PUT_WITHOUT_EMAIL_CHOICES:
            raise ValueError(f"put_without_email must be one of {PUT_WITHOUT_EMAIL_CHOICES}")

    @classmethod
    def with_deleted(
        cls, count: int, *, deleted_fraction: float = 0.9, **overrides: Any
    ) -> ConstantContactEmulatorSettings:
        """The smallest account holding at least ``count`` deleted contacts at ``deleted_fraction``."""
        if not 0.0 < deleted_fraction <= 1.0:
            raise ValueError("deleted_fraction must be above 0 and at most 1")
        contacts = max(0, math.floor(count / deleted_fraction) - 2)
        while round(contacts * deleted_fraction) < count:
            contacts += 1
        return cls(contacts=contacts, deleted_fraction=deleted_fraction, **overrides)

    @property
    def burst(self) -> int:
        return self.rate_limit_burst or max(1, int(self.requests_per_second))

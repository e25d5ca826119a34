"""What an emulator does differently when its seeded account is large (hundreds of thousands of records).

A seeded account lives as long as the emulator: after seeding one of at least ``freeze_from``
records, ``settle_seeded_account`` moves every object into the collector's permanent generation
(``gc.freeze``), so that no full collection walks millions of records again (one such walk is a pause
of seconds in the middle of a read).  Smaller accounts are left alone: a test process builds hundreds
of small emulators, and frozen garbage is never collected.
"""

from __future__ import annotations

import gc

__all__ = ["settle_seeded_account"]


def settle_seeded_account(records: int, freeze_from: int) -> bool:
    """Freeze the collector's view of everything alive once ``records`` reaches ``freeze_from``."""
    if records < freeze_from:
        return False
    gc.freeze()
    return True

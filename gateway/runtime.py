"""Process-level tuning for serving: the garbage collector.

A first page parses thousands of provider records into short-lived objects.  With CPython's default
thresholds (a young collection every 700 allocations) that churn triggers a collection every few
hundred records, and each older-generation pass walks every long-lived object of the process, so
the collector's share of a first page grows with everything the process holds.  Serving
therefore (1) freezes what exists after start-up (modules, the schema, settings: never garbage) so
collections skip it, and (2) collects the young generation every 50,000 allocations instead.  The
cost is memory held a little longer by unreachable cycles.  ``GC_TUNING=false`` turns it off.

Only the serving entry points call this (``gateway serve``, ``gateway demo``, the benchmark's
launcher), never ``create_app``: a test process builds many apps, and freezing would keep each one.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_GENERATION_THRESHOLD", "tune_garbage_collector"]

YOUNG_GENERATION_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)

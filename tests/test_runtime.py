"""The serving process's garbage-collector tuning."""

from __future__ import annotations

import gc

from gateway.runtime import YOUNG_GENERATION_THRESHOLD, tune_garbage_collector


def test_tuning_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)

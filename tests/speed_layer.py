"""Which path the schema, HTTP and end-to-end suites run: ``GATEWAY_TEST_SPEED_LAYER=on`` (default) or
``off``.  CI (``.ci/run``) runs those suites both ways; the fixtures that build a schema or an app take
their ``Settings`` from :func:`settings_under_test`."""

from __future__ import annotations

import os
from typing import Any

from gateway.config import Settings

__all__ = ["SPEED_LAYER", "VARIABLE", "settings_under_test"]

VARIABLE = "GATEWAY_TEST_SPEED_LAYER"


def _speed_layer() -> bool:
    value = os.environ.get(VARIABLE, "on").strip().lower()
    if value not in {"on", "off"}:
        raise RuntimeError(f"{VARIABLE} must be 'on' or 'off', not {value!r}")
    return value == "on"


SPEED_LAYER = _speed_layer()


def settings_under_test(**values: Any) -> Settings:
    """``Settings`` with the speed layer as the test run asks (``values`` may still set it).

    The synced index is off unless a test turns it on: these suites check the live path, whose
    answers must not depend on whether a background backfill has finished (the index's own tests
    and the comparison of both paths are in ``tests/e2e/test_index*.py``)."""
    return Settings(**{"speed_layer": SPEED_LAYER, "index": False, **values})

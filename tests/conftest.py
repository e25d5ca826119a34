"""Fixtures every test package may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import ServerPool
from .speed_layer import SPEED_LAYER, VARIABLE


def pytest_report_header() -> str:
    return f"speed layer: {'on' if SPEED_LAYER else 'off'} ({VARIABLE})"


@pytest.fixture(scope="session")
def emulator_servers() -> Iterator[ServerPool]:
    pool = ServerPool()
    yield pool
    pool.stop_all()

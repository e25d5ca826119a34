"""Fixtures every test package may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import ServerPool


@pytest.fixture(scope="session")
def emulator_servers() -> Iterator[ServerPool]:
    pool = ServerPool()
    yield pool
    pool.stop_all()

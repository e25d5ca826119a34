"""Fixtures every test package may use."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session", autouse=True)
def _gateway_database_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Gateways started by session- and module-wide fixtures keep their database in a temporary
    directory: never the checkout's ``./var``, never a developer's ``DATABASE_URL``."""
    saved = {name: os.environ.get(name) for name in ("DATA_DIR", "DATABASE_URL")}
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("gateway-data"))
    os.environ.pop("DATABASE_URL", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _gateway_database_per_test(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test's gateways get a fresh database: an idempotency key recorded by one test (or an
    earlier run) must not answer another's request."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path_factory.mktemp("gateway-data")))

"""A fresh, empty database of a test's own, on SQLite or on the machine's real PostgreSQL.

For tests outside ``tests/store`` (whose conftest gives every store test both backends through a
fixture) that start whole gateways on one backend or the other.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WITHOUT_POSTGRES = os.environ.get("GATEWAY_TESTS_WITHOUT_POSTGRES") == "1"


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({error!r})"
        if WITHOUT_POSTGRES:
            pytest.skip(f"{message}; skipped because GATEWAY_TESTS_WITHOUT_POSTGRES=1")
        pytest.fail(f"{message}: start it (.ci/run does) or set GATEWAY_TESTS_WITHOUT_POSTGRES=1")


@contextlib.asynccontextmanager
async def fresh_database_url(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of an empty database (``backend``: ``sqlite`` in ``directory``, or ``postgresql``),
    dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'gateway.db'}"
        return
    name = f"gateway_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    host_part = POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{host_part}/{name}"
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

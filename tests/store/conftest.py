"""Every store test runs twice: on an embedded SQLite file and on the machine's real PostgreSQL.

Each test gets a database of its own (a fresh SQLite file; a PostgreSQL database created for it and
dropped after, connections and all), so tests never see one another's rows.

PostgreSQL is required: CI has it (``.ci/run`` starts it), and a PostgreSQL parameter that cannot
reach the server FAILS.  On a developer machine without PostgreSQL, set
``GATEWAY_TESTS_WITHOUT_POSTGRES=1`` to skip those parameters instead (SQLite still runs).
``TEST_POSTGRES_URL`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gateway.store import Database, ensure_schema

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


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store' / 'gateway.db'}"
        return
    name = f"gateway_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    host_part = POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+asyncpg://{host_part}/{name}"
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """This test's database, migrated to the code's head revision."""
    opened = Database(database_url)
    await ensure_schema(opened, migrate=True)
    yield opened
    await opened.aclose()


@pytest.fixture
async def replica(database_url: str, database: Database) -> AsyncIterator[Database]:
    """A second engine on the same database, as another gateway process would open it."""
    other = Database(database_url)
    yield other
    await other.aclose()

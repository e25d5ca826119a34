"""Every store test runs twice: on an embedded SQLite file and on the machine's real PostgreSQL.

Each test gets a database of its own (a fresh SQLite file; a PostgreSQL database created for it and
dropped after, connections and all), so tests never see one another's rows.

PostgreSQL is required: CI has it (``.ci/run`` starts it), and a PostgreSQL parameter that cannot
reach the server FAILS.  On a developer machine without PostgreSQL, set
``GATEWAY_TESTS_WITHOUT_POSTGRES=1`` to skip those parameters instead (SQLite still runs).
``TEST_POSTGRES_URL`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store import Database, ensure_schema

from ..databases import fresh_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database of this test's own."""
    async with fresh_database_url(request.param, tmp_path / "store") as url:
        yield url


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

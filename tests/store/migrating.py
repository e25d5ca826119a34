"""Moving a test's database between migration revisions, and what its schema then holds."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from gateway.store import Database
from gateway.store.migrator import alembic_config


@dataclass(frozen=True)
class Schema:
    tables: set[str]
    columns: dict[str, set[str]]


async def migrate(database: Database, direction: str, target: str) -> Schema:
    """``direction`` is ``upgrade`` or ``downgrade``; the tables and columns afterwards."""

    def run(connection: Connection) -> Schema:
        getattr(command, direction)(alembic_config(connection), target)
        inspector = sa.inspect(connection)
        tables = set(inspector.get_table_names())
        return Schema(tables, {t: {c["name"] for c in inspector.get_columns(t)} for t in tables})

    async with database.begin() as connection:
        return await connection.run_sync(run)

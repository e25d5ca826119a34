"""Alembic's environment: runs the revisions on a connection of the gateway's async engine.

``gateway.store.migrator`` hands over an open connection (``config.attributes["connection"]``), so
migrations run inside the caller's transaction.  Without one (Alembic's own tooling, for a developer
writing a revision) the database comes from the gateway's settings, as ``gateway serve`` would open it.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from gateway.config import Settings
from gateway.store.database import Database
from gateway.store.models import Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters a table by copying it; batch mode lets later revisions do that the same way.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    database = Database.from_settings(Settings())
    try:
        async with database.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await database.aclose()


def _offline() -> None:
    context.configure(
        url=Database.from_settings(Settings()).url,
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _offline()
elif (given := context.config.attributes.get("connection")) is not None:
    _run(given)
else:
    asyncio.run(_run_with_own_engine())

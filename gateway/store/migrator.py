"""Applying and reading the database's migration revision, with Alembic configured in code.

The migrations ship inside the package, so an installed gateway needs no ``alembic.ini``: the
:class:`~alembic.config.Config` is built here and handed an open connection of the gateway's engine.

An upgrade first takes a lock for its whole transaction (on PostgreSQL an advisory lock, on SQLite
the database's write lock): replicas that start together with ``DATABASE_MIGRATE_ON_START=true``
queue behind one another, and every one after the first finds the schema already current.  Only then
is the revision read and Alembic run (whose module-level context must not be entered twice at once).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import DatabaseError, DatabaseNotMigrated

from .database import Database

__all__ = ["alembic_config", "current_revision", "ensure_schema", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed number works; it only has to be the same in every replica ("dcg" in ASCII).
_MIGRATION_LOCK = 0x646367


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision the code ships (read once per process: the files do not change)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migration"
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database: Database) -> str | None:
    """The revision the database is at; None for an empty database."""
    try:
        async with database.connect() as connection:
            return await connection.run_sync(_current)
    except (SQLAlchemyError, OSError) as error:
        raise _unreachable(database, error) from error


async def upgrade(
    database: Database, target: str = "head", *, wait_seconds: float = 60.0
) -> tuple[str | None, str | None]:
    """Apply the migrations up to ``target``; (revision before, revision after).

    A replica that finds another one migrating waits up to ``wait_seconds`` for its lock: a migration
    can take longer than the busy timeout ordinary writes are given.
    """

    def run(connection: Connection) -> tuple[str | None, str | None]:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        else:  # SQLite: the database's write lock, taken before the revision is read
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            finally:  # the connection goes back to the pool with the ordinary timeout
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(database.busy_timeout * 1000)}")
        before = _current(connection)
        command.upgrade(alembic_config(connection), target)
        return before, _current(connection)

    try:
        async with database.begin() as connection:
            return await connection.run_sync(run)
    except (SQLAlchemyError, OSError) as error:
        raise _unreachable(database, error) from error


async def ensure_schema(database: Database, *, migrate: bool, wait_seconds: float = 60.0) -> None:
    """Make sure the database is at the code's head revision: upgrade it (``migrate``, waiting up to
    ``wait_seconds`` for a replica that is migrating) or refuse."""
    current = await current_revision(database)
    if current == head_revision():
        return
    if migrate:
        await upgrade(database, wait_seconds=wait_seconds)
        return
    raise DatabaseNotMigrated(
        f"the database at {database.display_url} is at revision {current or 'none (empty)'} and this "
        f"gateway needs {head_revision()}: run `gateway db upgrade` first, or start with "
        "DATABASE_MIGRATE_ON_START=true"
    )


def _unreachable(database: Database, error: Exception) -> DatabaseError:
    return DatabaseError(f"the database at {database.display_url} cannot be used: {database.reason(error)}")

"""The connection to the gateway's own database: an async SQLAlchemy engine built from the settings.

Without ``DATABASE_URL`` the gateway keeps an embedded SQLite file, ``DATA_DIR/gateway.db``, and
creates the directory on first start: one process, nothing to install.  Several replicas share a
PostgreSQL database (``postgresql+asyncpg://``) instead; SQLite is for one host.

SQLite gets WAL journaling (readers never wait for the writer) and a busy timeout (a writer waits for
another's lock instead of failing at once), set on every new connection.  PostgreSQL gets a bounded
pool whose connections are checked before use and replaced now and then, so a restarted server or a
proxy's idle cut costs no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable

from gateway.config import Settings
from gateway.errors import DatabaseError

__all__ = ["Database", "database_url"]

logger = logging.getLogger("gateway.store")

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def database_url(settings: Settings) -> URL:
    """``DATABASE_URL``, or the embedded SQLite file under ``DATA_DIR``."""
    if settings.database_url is not None:
        try:
            url = make_url(settings.database_url.get_secret_value())
        except Exception as error:  # the parser's message may quote the URL, password and all
            raise DatabaseError("DATABASE_URL is not a database URL") from error
    else:
        url = URL.create("sqlite+aiosqlite", database=str(settings.data_dir / "gateway.db"))
    if url.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseError(
            f"DATABASE_URL uses {url.drivername!r}; supported: {', '.join(SUPPORTED_DRIVERS)}"
        )
    return url


def _use_wal(cursor: Any, *, wait_seconds: float) -> None:
    """Put the SQLite file in WAL mode (a property of the file, kept once set).

    The switch needs the file's exclusive lock, and SQLite answers "locked" at once, without waiting
    out the busy timeout, while another connection is writing (waiting could deadlock two upgraders).
    Replicas opening a new file together meet exactly that, so the switch is tried again until the
    busy timeout has passed.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class Database:
    """One engine (a pool of connections) to the gateway's database; close it with :meth:`aclose`."""

    def __init__(
        self,
        url: URL | str,
        *,
        busy_timeout: float = 5.0,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 10.0,
        pool_recycle: float = 1800.0,
        plain_sqlite_selects: bool = True,
        sqlite_select_threads: int = 0,
    ) -> None:
        self.url = make_url(url)
        self.busy_timeout = busy_timeout
        options: dict[str, Any] = {}
        if self.is_sqlite:
            self._create_sqlite_directory()
        else:
            options.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=pool_timeout,
                pool_recycle=pool_recycle,
                pool_pre_ping=True,
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        # Reads outside a transaction: no BEGIN and ROLLBACK round trips around a single SELECT.
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite: the driver opens a transaction before a write only, so a SELECT on the engine's own
        # connection already runs outside one.  AUTOCOMMIT would add nothing but its isolation-level
        # switch, a PRAGMA on checkout and on checkin: two more trips to aiosqlite's thread per read.
        self._selects = self.engine if self.is_sqlite and plain_sqlite_selects else self._reader
        # SQLite (a file): :meth:`select` runs each statement whole on a thread of its own pool, on a
        # synchronous engine, one hand-over each way; through aiosqlite every step (cursor, execute,
        # fetch, close, rollback) is a trip to its thread and back.
        self._version_connection: sqlite3.Connection | None = None
        self._sync_engine: Engine | None = None
        self._select_threads: ThreadPoolExecutor | None = None
        if self.is_sqlite and sqlite_select_threads > 0 and self.url.database not in (None, "", ":memory:"):
            self._sync_engine = create_engine(self.url.set(drivername="sqlite+pysqlite"))
            self._select_threads = ThreadPoolExecutor(
                sqlite_select_threads, thread_name_prefix="sqlite-select"
            )
        if self.is_sqlite:
            milliseconds = int(busy_timeout * 1000)

            def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
                _use_wal(cursor, wait_seconds=busy_timeout)
                # WAL makes NORMAL durable against application crashes; only a power cut can lose
                # the last commits, never corrupt the file.
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            event.listen(self.engine.sync_engine, "connect", _on_connect)
            if self._sync_engine is not None:
                event.listen(self._sync_engine, "connect", _on_connect)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            database_url(settings),
            busy_timeout=settings.database_busy_timeout_seconds,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_seconds,
            pool_recycle=settings.database_pool_recycle_seconds,
            plain_sqlite_selects=settings.database_plain_sqlite_selects,
            sqlite_select_threads=settings.database_sqlite_select_threads,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password masked: safe for logs and error messages."""
        return self.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def unavailable_as_error(self) -> Iterator[None]:
        """Turn a failure to reach or use the database (the driver's, SQLAlchemy's, the socket's) into
        :class:`DatabaseError`: a typed error for the caller, with the details in the log only."""
        try:
            yield
        except (SQLAlchemyError, OSError) as error:
            logger.error("the database at %s cannot be used: %s", self.display_url, self.reason(error))
            raise DatabaseError("the gateway's database is unavailable; try again shortly") from error

    def reason(self, error: BaseException) -> str:
        """The driver's own words for ``error`` (refused, unknown database, unable to open the file),
        one line, without the SQL SQLAlchemy appends and with the password, should a driver quote
        it, masked."""
        original = getattr(error, "orig", None) or error
        words = (str(original).strip().splitlines() or [type(original).__name__])[0]
        if self.url.password:
            words = words.replace(str(self.url.password), "***")
        return words[:300]

    def _create_sqlite_directory(self) -> None:
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """``async with database.begin() as connection``: one transaction, committed on success.

        On SQLite a transaction that writes should write first: its first write takes the lock (waiting
        up to the busy timeout), where a read-then-write transaction could be refused at once.
        """
        return self.engine.begin()

    def connect(self) -> AsyncConnection:
        """``async with database.connect() as connection``: a connection for reads outside a transaction."""
        return self._reader.connect()

    def select_only(self) -> AsyncConnection:
        """``async with database.select_only() as connection``: like :meth:`connect`, for SELECTs only
        (a write through it is rolled back at its end on SQLite)."""
        return self._selects.connect()

    async def select(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> list[Row[Any]]:
        """The rows of one SELECT, read outside a transaction (:meth:`select_only`, or on SQLite with
        select threads, on one of them)."""
        if self._sync_engine is None or self._select_threads is None:
            async with self.select_only() as connection:
                return list((await connection.execute(statement, parameters)).all())
        engine = self._sync_engine

        def read() -> list[Row[Any]]:
            with engine.connect() as connection:
                return list(connection.execute(statement, parameters).all())

        return await asyncio.get_running_loop().run_in_executor(self._select_threads, read)

    def sqlite_data_version(self) -> int | None:
        """SQLite (a file): ``PRAGMA data_version`` of a connection of its own that never writes, a
        number that changes whenever any other connection, of this process or another, commits a
        change to the file (None on PostgreSQL, for ``:memory:``, or when the file cannot be read).
        Read on the event loop: it looks at the WAL index in shared memory and does no I/O."""
        if not self.is_sqlite or self.url.database in (None, "", ":memory:"):
            return None
        try:
            if self._version_connection is None:
                connection = sqlite3.connect(Path(self.url.database).expanduser())
                connection.execute("PRAGMA query_only=1")
                self._version_connection = connection
            row = self._version_connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    async def check(self, timeout: float) -> str | None:
        """None when a query goes through within ``timeout`` seconds, else why not (for readiness)."""
        try:
            async with asyncio.timeout(timeout), self.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except TimeoutError:
            return f"the gateway's database did not answer within {timeout:g} s"
        except (SQLAlchemyError, OSError) as error:
            return f"the gateway's database cannot be used: {self.reason(error)}"
        return None

    async def aclose(self) -> None:
        if self._version_connection is not None:
            self._version_connection.close()
            self._version_connection = None
        if self._select_threads is not None and self._sync_engine is not None:
            self._select_threads.shutdown(wait=False, cancel_futures=True)
            self._sync_engine.dispose()
        await self.engine.dispose()

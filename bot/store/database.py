"""The engine and its settings for SQLite and PostgreSQL, and the migrations."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_TIMEOUT = 5.0  # seconds; a learner waiting longer would rather be told to retry
READING = "coach_reading"  # execution option: a transaction that writes nothing


@dataclass(frozen=True)
class SQLiteWrites:
    """How an SQLite engine writes.

    ``synchronous``: NORMAL (with WAL) syncs the disk at checkpoints only; FULL syncs at
    every commit. ``one_writer``: this process's write transactions queue on one
    ``WriterLock`` before BEGIN IMMEDIATE, in order, instead of polling in SQLite's busy
    handler (which sleeps up to 100 ms between tries and serves no one first).
    """

    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    one_writer: bool = True


class WriterLock:
    """SQLite takes one writer at a time: this process's writers wait for it here, first
    come first served, and a writer that waits longer than ``timeout`` fails as a database
    that does not answer does (``OperationalError``, "database is locked")."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: object | None = None

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        holder = _HOLDER.get()
        if holder is not None and holder is self._holder:
            yield  # already held by this task (or the task that started it): no deadlock
            return
        lock = self._for_this_loop()
        try:
            async with asyncio.timeout(self.timeout):
                await lock.acquire()
        except TimeoutError as error:
            raise _locked_out(self.timeout) from error
        self._holder = mine = object()
        token = _HOLDER.set(mine)
        try:
            yield
        finally:
            self._holder = None
            lock.release()
            _HOLDER.reset(token)

    def _for_this_loop(self) -> asyncio.Lock:
        """An asyncio lock belongs to one event loop: a process that runs another (a
        command's ``asyncio.run`` after the first) gets a new one, then unheld."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock


_HOLDER: ContextVar[object | None] = ContextVar("coach_sqlite_writer", default=None)
_WRITERS: WeakKeyDictionary[Engine, WriterLock] = WeakKeyDictionary()


def _locked_out(timeout: float) -> OperationalError:
    reason = sqlite3.OperationalError(f"database is locked (no turn to write in {timeout:g} s)")
    return OperationalError("BEGIN IMMEDIATE", None, reason)


def writing(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[None]:
    """Wait for this process's turn to write (SQLite), held until the block ends; nothing
    to wait for on PostgreSQL or on an engine made without one writer."""
    writer = _WRITERS.get(engine.sync_engine)
    return writer.held() if writer is not None else contextlib.nullcontext()


def for_reading(engine: AsyncEngine) -> AsyncEngine:
    """The engine for transactions that write nothing: on SQLite they begin DEFERRED, so
    they neither wait for the write lock nor hold it (WAL readers see the last commit)."""
    return engine.execution_options(**{READING: True})


def create_engine(
    url: str, timeout: float = DEFAULT_TIMEOUT, writes: SQLiteWrites = SQLiteWrites()
) -> AsyncEngine:
    """An engine whose every wait is bounded by about ``timeout`` seconds.

    Connecting, taking a connection from the pool, waiting for a lock and running a
    statement each give up after ``timeout``: a stalled database makes a request fail
    quickly (and the caller answer "try again"), never hang. On SQLite every transaction
    but a reading one (``for_reading``) takes the write lock at once (BEGIN IMMEDIATE), so
    transactions on one file run one after the other and two events for one learner
    cannot both read the same step; PostgreSQL locks the learner's row instead. On SQLite
    ``writes`` says how commits reach the disk and whether this process queues its
    writers (see ``SQLiteWrites``); the busy timeout is left for other processes.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _postgres_engine(url, timeout)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": timeout}, hide_parameters=True)
    _without_values(engine)
    _sqlite_settings(engine, int(timeout * 1000), writes.synchronous)
    if writes.one_writer:
        _WRITERS[engine.sync_engine] = WriterLock(timeout)
    return engine


def _sqlite_settings(engine: AsyncEngine, busy_ms: int, synchronous: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # erased rows do not linger in free pages
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints, not at each commit: a power cut may undo
        # the last commits, never corrupt the file; a crash of the process loses nothing.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # Other processes (a `coach` command beside the server) wait for the lock here.
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        reading = connection.get_execution_options().get(READING, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def _postgres_engine(url: str, timeout: float) -> AsyncEngine:
    """asyncpg bounds connecting and each statement on the client (a frozen network);
    the server bounds statements and lock waits (a table locked by someone else)."""
    millis = str(int(timeout * 1000))
    connect_args = {
        "timeout": timeout,
        "command_timeout": timeout,
        "server_settings": {
            "statement_timeout": millis,
            "lock_timeout": millis,
            "idle_in_transaction_session_timeout": str(int(timeout * 6000)),
        },
    }
    engine = create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=timeout,
        connect_args=connect_args,
        hide_parameters=True,
    )
    _without_values(engine)
    return engine


def _without_values(engine: AsyncEngine) -> None:
    """A database error says which statement, table, column and constraint failed, never
    the values: its parameters are hidden (``hide_parameters``), and PostgreSQL's message
    and DETAIL, which quote them ("Key (chat_id)=(…)", "Failing row contains (…)", "invalid
    input syntax: …"), are replaced by the error's fields, so a traceback in the log names
    no learner and holds none of their text."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        original = context.original_exception
        described = describe_error(original)
        if described is None:
            return
        seen: set[int] = set()
        error: BaseException | None = original
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            error.args = (described,)
            for field in ("detail", "hint"):
                if hasattr(error, field):
                    setattr(error, field, None)
            error = error.__cause__ or error.__context__
        wrapped = context.sqlalchemy_exception
        if wrapped is not None:
            kind = type(original)
            wrapped.args = (f"({kind.__module__}.{kind.__qualname__}) {described}",)


def describe_error(error: BaseException) -> str | None:
    """PostgreSQL's error as its code and the names it concerns (no values); None for
    SQLite, whose messages name columns and constraints only."""
    cause = error.__cause__ or error
    code = getattr(cause, "sqlstate", None) or getattr(error, "sqlstate", None)
    if code is None:
        return None
    names = [
        f"{field} {value}"
        for field in ("table_name", "column_name", "constraint_name")
        if (value := getattr(cause, field, None))
    ]
    return ", ".join([f"{type(cause).__name__} (SQLSTATE {code})", *names])


async def forget_old_pages(engine: AsyncEngine) -> bool:
    """SQLite: copy the WAL into the database file and empty it, so the pages an erasure
    replaced are gone from the WAL too (``secure_delete`` clears them in the file). False
    when a reader kept part of the WAL; the next erasure or sweep tries again. It takes
    this process's turn to write, so no writer of this process starts meanwhile."""
    if is_postgres(engine):
        return True
    async with writing(engine), engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = await cursor.fetchone()
        await cursor.close()
    return busy is None or busy[0] == 0


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` on the engine's database."""
    url = engine.url.render_as_string(hide_password=False)

    def run(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


def sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)

"""The engine and its settings for SQLite and PostgreSQL, and the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_TIMEOUT = 5.0  # seconds; a learner waiting longer would rather be told to retry


def create_engine(url: str, timeout: float = DEFAULT_TIMEOUT) -> AsyncEngine:
    """An engine whose every wait is bounded by about ``timeout`` seconds.

    Connecting, taking a connection from the pool, waiting for a lock and running a
    statement each give up after ``timeout``: a stalled database makes a request fail
    quickly (and the caller answer "try again"), never hang. On SQLite every transaction
    takes the write lock at once (BEGIN IMMEDIATE), so transactions on one file run one
    after the other and two events for one learner cannot both read the same step;
    PostgreSQL locks the learner's row instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return _postgres_engine(url, timeout)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": timeout}, hide_parameters=True)
    _without_values(engine)
    busy_ms = int(timeout * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # erased rows do not linger in free pages
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


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
    when a reader kept part of the WAL; the next erasure or sweep tries again."""
    if is_postgres(engine):
        return True
    async with engine.connect() as connection:
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

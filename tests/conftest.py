"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.app import Coach, build
from bot.config import Settings
from bot.store.database import create_engine, upgrade
from bot.store.sealed import use_data_keys
from bot.store.tables import Base
from tests import leftover_tasks  # noqa: F401  (a task that will not end fails its test)

# Hand-off texts are sealed in every test, with a key of this run: in this process, in the
# settings of `settings_for`, and in commands and processes the tests start. (Kept in the
# environment: this file is imported twice, as `conftest` and as `tests.conftest`.)
TEST_DATA_KEY = os.environ.setdefault("COACH_TEST_DATA_KEY", Fernet.generate_key().decode())
os.environ["COACH_DATA_KEYS"] = TEST_DATA_KEY
use_data_keys([TEST_DATA_KEY])

POSTGRES_ENV = "COACH_TEST_DATABASE_URL"
SKIP_POSTGRES = (
    f"PostgreSQL tests skipped: set {POSTGRES_ENV}=postgresql+asyncpg://user@host/db to run them"
)


async def _create_database(server_url: str, name: str) -> str:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


async def _drop_database(server_url: str, name: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped at the end."""
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        if os.environ.get("COACH_REQUIRE_POSTGRES"):
            pytest.fail(f"COACH_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
        pytest.skip(SKIP_POSTGRES)
    name = f"coach_test_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(_create_database(server_url, name))
    yield url
    asyncio.run(_drop_database(server_url, name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The URL of an empty, migrated database on each engine."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/coach.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


TELEGRAM_RUNTIMES = {"aiogram": "aiogram", "ptb": "python-telegram-bot"}


@pytest.fixture(params=list(TELEGRAM_RUNTIMES))
def telegram_runtime(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Telegram library the coach runs on (``COACH_TELEGRAM_RUNTIME``): Telegram tests ask
    for it with ``pytestmark = pytest.mark.usefixtures("telegram_runtime")``."""
    runtime = TELEGRAM_RUNTIMES[request.param]
    monkeypatch.setenv("COACH_TELEGRAM_RUNTIME", runtime)
    return runtime


async def emptied(engine: AsyncEngine) -> None:
    """An empty, migrated database: SQLite's is new, PostgreSQL's (one a run) is emptied."""
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
    else:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await emptied(engine)
    yield engine
    await engine.dispose()


JOURNEY_COURSE = Path(__file__).parent / "fixtures" / "journey"
ROOT = Path(__file__).parent.parent


def settings_for(database_url: str, curriculum: Path = JOURNEY_COURSE, **extra: Any) -> Settings:
    """Settings for a test: three languages and one time zone unless the test says otherwise."""
    values: dict[str, Any] = {
        "languages": ["en", "fr", "ar"],
        "timezones": ["Europe/Paris"],
        "data_keys": TEST_DATA_KEY,
        **extra,
    }
    return Settings(
        database_url=database_url,
        curriculum_path=curriculum,
        locales_path=ROOT / "locales",
        _env_file=None,  # type: ignore[call-arg]
        **values,
    )


@pytest.fixture
async def coach(engine: AsyncEngine, database_url: str) -> AsyncIterator[Coach]:
    """The whole coach on the journey course, its database migrated and empty."""
    built = build(settings_for(database_url))
    yield built
    await built.store.close()


@pytest.fixture
async def client(coach: Coach) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(coach.web)) as test_client:
        yield test_client

"""What several benchmarks share: a scratch PostgreSQL database, and ``--json`` output.

A PostgreSQL server is named by ``COACH_BENCH_DATABASE_URL`` or, failing that,
``COACH_TEST_DATABASE_URL`` (``postgresql+asyncpg://user@host/db``). A benchmark never uses
that database itself: it creates a database of its own on the server, with a random name,
and drops it afterwards, so nobody else's data is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.database import create_engine, upgrade

SERVER_ENVS = ("COACH_BENCH_DATABASE_URL", "COACH_TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """The commit the coach's code is at, and whether bot/ or scheduler/ differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "bot", "scheduler"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' with uncommitted changes in bot/' if changed else ''}"


def postgres_server() -> str | None:
    """The PostgreSQL server URL the environment names, if any."""
    return next((os.environ[name] for name in SERVER_ENVS if os.environ.get(name)), None)


@asynccontextmanager
async def scratch_postgres(server: str, prefix: str = "coach_bench") -> AsyncIterator[str]:
    """A new, empty database on ``server`` for the block (its URL), dropped after it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def migrated(url: str) -> None:
    """The coach's tables in the database at ``url``."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def figures_out(as_json: bool) -> Iterator[Callable[[Any], None]]:
    """With ``--json``: the human report goes to stderr and ``give(figures)`` prints the
    figures as one JSON document on stdout; without, ``give`` does nothing."""
    stdout: TextIO = sys.stdout
    given: list[Any] = []
    if not as_json:
        yield given.append
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield given.append
    for figures in given:
        stdout.write(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    stdout.flush()


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits)

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
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.database import create_engine, upgrade

STATEMENT = re.compile(r"^\s*(\w+)(?:\s+(?:INTO|FROM)?\s*(\w+))?", re.IGNORECASE)
SOURCE = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
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


def statement_kind(statement: str) -> str:
    """A statement's verb and table: ``SELECT learners``, ``INSERT outbox``, ``BEGIN``."""
    found = STATEMENT.match(statement)
    verb = found.group(1).upper() if found else "?"
    table = found.group(2) if found and found.group(2) else ""
    if verb in ("SELECT", "WITH"):
        source = SOURCE.search(statement)
        table = source.group(1) if source else ""
    return f"{verb} {table}".strip()


def count_statements(engine: AsyncEngine) -> Counter[str]:
    """From now on, every statement the engine runs, by kind, and its transactions
    (``transaction``)."""
    counts: Counter[str] = Counter()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counts[statement_kind(statement)] += 1

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(_conn: Any) -> None:
        counts["transaction"] += 1

    return counts


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits)

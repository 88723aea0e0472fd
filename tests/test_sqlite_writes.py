"""SQLite's writes: commits synced at checkpoints (WAL with synchronous=NORMAL), and one
process's writers taking SQLite's one write lock in turn, first come first served, instead
of polling for it in SQLite's busy handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.services.coach import Unavailable
from bot.store.database import create_engine, upgrade
from bot.store.tables import EventRow, InboundKey, Learner
from bot.store.unit_of_work import ReadOnly, Store
from tests.builders import NOW, button, coach_service, command, sender

CHANNEL = Capabilities("test", Buttons.INLINE, pull=True)
SHORT = 0.5  # seconds: the bound under test, kept short so the suite stays quick
NEVER = 15.0  # seconds: far beyond every bound; a test that waits this long found a hang


@pytest.fixture
async def sqlite(tmp_path: object) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database whose every wait is bounded by SHORT."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/coach.db", timeout=SHORT)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def patient(sqlite: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The same database with the default bound (5 s), for a queue of writers."""
    engine = create_engine(sqlite.url.render_as_string())
    yield engine
    await engine.dispose()


def without_busy_handler(engine: AsyncEngine) -> None:
    """SQLite answers "database is locked" at once instead of polling for the lock, so any
    transaction that would have waited in its busy handler fails instead."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_waiting(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()


async def count(engine: AsyncEngine, what: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(what)) or 0)


async def test_a_new_connection_syncs_at_checkpoints_and_keeps_erasing_for_good(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.connect() as connection:
        pragmas = {
            name: (await connection.execute(sql(f"PRAGMA {name}"))).scalar()
            for name in ("synchronous", "journal_mode", "secure_delete", "foreign_keys")
        }
    assert pragmas == {
        "synchronous": 1,
        "journal_mode": "wal",
        "secure_delete": 1,
        "foreign_keys": 1,
    }


async def test_learners_writing_at_once_never_wait_in_sqlites_busy_handler(
    patient: AsyncEngine,
) -> None:
    without_busy_handler(patient)
    service = coach_service(patient)
    learners = [sender(f"u{n}") for n in range(20)]

    async def journey(who: Any) -> None:
        await service.handle(command("start", who), CHANNEL)
        await service.handle(button("lang:en", who), CHANNEL)

    await asyncio.wait_for(asyncio.gather(*(journey(who) for who in learners)), NEVER)
    assert await count(patient, Learner) == 20
    assert await count(patient, InboundKey) == 40


async def test_writers_take_their_turn_one_at_a_time_in_the_order_they_came(
    sqlite: AsyncEngine,
) -> None:
    store = Store(sqlite)
    inside: list[int] = []
    most_at_once = 0
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def first() -> None:
        async with store.unit_of_work() as uow:
            async with store.unit_of_work() as within:  # the same task: no wait for itself
                await within.record(None, "turn", {"n": -1}, NOW)
            first_in.set()
            await let_go.wait()
            await uow.record(None, "turn", {"n": 0}, NOW)

    async def writer(number: int) -> None:
        nonlocal most_at_once
        async with store.unit_of_work() as uow:
            inside.append(number)
            most_at_once = max(most_at_once, len(inside))
            await uow.record(None, "turn", {"n": number}, NOW)
            await uow.session.flush()
            await asyncio.sleep(0)  # let the others try to come in meanwhile
            inside.remove(number)

    holder = asyncio.create_task(first())
    await asyncio.wait_for(first_in.wait(), NEVER)
    writers = [asyncio.create_task(writer(number)) for number in range(1, 11)]
    await asyncio.sleep(0)
    let_go.set()
    await asyncio.wait_for(asyncio.gather(holder, *writers), NEVER)
    async with store.reading() as uow:
        turns = [row.data["n"] for row in await uow.events("turn")]
    assert most_at_once == 1
    assert turns == list(range(-1, 11))


async def test_a_writer_kept_waiting_past_the_bound_fails_as_a_stalled_database_does(
    sqlite: AsyncEngine,
) -> None:
    service = coach_service(sqlite)
    await service.handle(command("start", sender("u1")), CHANNEL)
    holding = asyncio.Event()
    let_go = asyncio.Event()

    async def hold_the_turn() -> None:
        async with service.store.unit_of_work():  # the turn is taken, SQLite not yet asked
            holding.set()
            await let_go.wait()

    holder = asyncio.create_task(hold_the_turn())
    await asyncio.wait_for(holding.wait(), NEVER)
    try:
        with pytest.raises(Unavailable) as failed:
            await asyncio.wait_for(service.handle(button("lang:en", sender("u2")), CHANNEL), NEVER)
    finally:
        let_go.set()
        await asyncio.wait_for(holder, NEVER)
    assert isinstance(failed.value.__cause__, OperationalError)
    assert "database is locked" in str(failed.value.__cause__)
    assert await count(sqlite, Learner) == 1, "nothing of the refused event was stored"
    assert await service.handle(button("lang:en", sender("u2")), CHANNEL), "then it goes through"


async def test_a_look_up_neither_waits_for_the_turn_nor_writes(sqlite: AsyncEngine) -> None:
    without_busy_handler(sqlite)
    store = Store(sqlite)
    async with store.unit_of_work() as uow:
        await uow.record(None, "kept", {}, NOW)
    writing = asyncio.Event()
    let_go = asyncio.Event()

    async def write_slowly() -> None:
        async with store.unit_of_work() as uow:
            await uow.record(None, "not yet", {}, NOW)
            await uow.session.flush()  # SQLite's write lock is held from here
            writing.set()
            await let_go.wait()

    writer = asyncio.create_task(write_slowly())
    await asyncio.wait_for(writing.wait(), NEVER)
    try:
        async with asyncio.timeout(NEVER), store.reading() as uow:
            seen = [row.name for row in await uow.events()]
        with pytest.raises(ReadOnly):
            async with asyncio.timeout(NEVER), store.reading() as uow:
                await uow.record(None, "refused", {}, NOW)
                await uow.events()
    finally:
        let_go.set()
        await asyncio.wait_for(writer, NEVER)
    assert seen == ["kept"]
    assert await count(sqlite, EventRow) == 2

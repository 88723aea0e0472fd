"""The sweep works a batch at a time: a few statements whatever its size, learners busy in
their own turn skipped, and a batch taken again never writes a reminder twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.store import nudge_batches
from bot.store.tables import EventRow, Learner
from bot.store.unit_of_work import Store, UnitOfWork
from tests.test_nudge_sweep import Clock, World, make_world

SWEEP_LIMIT_S = 60.0  # no sweep waits this long; the engine gives up on a lock after 5 s


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    yield make_world(engine, Clock())


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def sweep_now(world: World) -> int:
    return await asyncio.wait_for(world.sweep.sweep(world.clock.now), SWEEP_LIMIT_S)


async def reminders_of(world: World) -> dict[str, int]:
    rows = await world.nudges()
    return {who: sum(row.chat_id == who for row in rows) for who in {r.chat_id for r in rows}}


async def test_a_batch_takes_the_same_few_statements_for_3_or_12_learners(world: World) -> None:
    for who in ("s0", "s1", "s2"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    with statements(world.engine) as small:
        assert await sweep_now(world) == 3
    for index in range(12):
        await world.learner_in_lesson(f"b{index}")
    world.clock.now += timedelta(days=1, hours=2)
    with statements(world.engine) as large:
        assert await sweep_now(world) == 12
    assert len(large) == len(small) <= 10, (small, large)
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in large) == 2


async def test_batches_of_five_take_the_same_statements_each(world: World) -> None:
    for index in range(11):
        await world.learner_in_lesson(f"c{index}")
    world.clock.now += timedelta(days=1, hours=2)
    world.sweep.batch = 5
    with statements(world.engine) as sent:
        assert await sweep_now(world) == 11
    starts = [index for index, statement in enumerate(sent) if "next_nudge_at <=" in statement]
    assert len(starts) == 3  # 5, 5, then 1: the last batch is not full
    each = starts[1] - starts[0]
    assert starts[2] - starts[1] == each <= 10 and len(sent) == 3 * each
    assert await reminders_of(world) == {f"c{index}": 1 for index in range(11)}


async def test_a_batch_that_fails_at_its_last_write_is_taken_again_without_duplicates(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("f1", "f2", "f3"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    original = nudge_batches.write_events

    async def lost(session: AsyncSession, *args: Any) -> None:
        await original(session, *args)
        raise OperationalError("INSERT", {}, ConnectionResetError("connection lost"))

    monkeypatch.setattr(nudge_batches, "write_events", lost)
    assert await sweep_now(world) == 0
    assert await world.nudges() == []
    monkeypatch.setattr(nudge_batches, "write_events", original)
    assert await sweep_now(world) == 3
    assert await sweep_now(world) == 0
    assert await reminders_of(world) == {"f1": 1, "f2": 1, "f3": 1}
    async with world.engine.connect() as connection:
        query = select(EventRow.learner_id).where(EventRow.name == "nudge_sent")
        recorded = list(await connection.scalars(query))
    assert len(recorded) == len(set(recorded)) == 3  # the failed batch recorded nothing


async def test_a_reminder_written_twice_is_one_outbox_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retried write (or the same reminder decided again from the same state) finds the
    reminder's dedupe key taken and adds nothing."""
    for who in ("r1", "r2"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    original = nudge_batches.write_outbox

    async def twice(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        await original(session, rows)
        await original(session, rows)

    monkeypatch.setattr(nudge_batches, "write_outbox", twice)
    assert await sweep_now(world) == 2
    assert await reminders_of(world) == {"r1": 1, "r2": 1}
    monkeypatch.setattr(nudge_batches, "write_outbox", original)
    # The learners' rows as they were before that sweep: the same reminder is decided again.
    async with world.engine.begin() as connection:
        await connection.execute(
            update(Learner).values(
                nudges_unanswered=0, last_nudge_at=None, next_nudge_at=world.clock.now
            )
        )
    assert await sweep_now(world) == 2
    assert await reminders_of(world) == {"r1": 1, "r2": 1}


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_learner_busy_in_their_own_turn_is_skipped_and_reminded_later(
    world: World,
) -> None:
    for who in ("busy", "free"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    async with world.engine.connect() as turn:  # the learner's own turn holds their row
        await turn.execute(select(Learner.id).where(Learner.chat_id == "busy").with_for_update())
        assert await sweep_now(world) == 1
        assert await reminders_of(world) == {"free": 1}
        await turn.rollback()
    world.clock.now += timedelta(minutes=30)
    assert await sweep_now(world) == 1
    assert await reminders_of(world) == {"busy": 1, "free": 1}


@dataclass
class TurnMeanwhile:
    """The sweep's store, where a learner's own turn happens after the batch was read and
    decided, just before it is written."""

    store: Store
    turn: Callable[[], Awaitable[None]] | None

    def reading(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self.store.reading()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        turn, self.turn = self.turn, None
        if turn is not None:
            await turn()
        async with self.store.unit_of_work() as uow:
            yield uow


async def test_a_learner_who_writes_while_the_batch_is_decided_gets_no_stale_reminder(
    world: World,
) -> None:
    for who in ("pauses", "quiet"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    store = world.sweep.store
    world.sweep.store = TurnMeanwhile(store, lambda: world.says("pauses", "/pause 3"))  # type: ignore[assignment]
    assert await sweep_now(world) == 1
    world.sweep.store = store
    assert await sweep_now(world) == 0
    assert await reminders_of(world) == {"quiet": 1}

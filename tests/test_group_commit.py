"""Group commit: events that arrive together are handled in one transaction, one learner's
events in the order they came, and a turn that fails (or must go alone) does not take the
others with it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import turn as core_turn
from bot.core.channel import Buttons, Capabilities
from bot.core.events import Inbound
from bot.services import coach as coach_module
from bot.services.coach import CoachService, Handled
from bot.services.figures_live import REGISTRY
from bot.services.group_commit import GroupCommit
from bot.store.known_states import KnownStates
from bot.store.outbox import OutboxDraft
from bot.store.tables import EventRow, InboundKey, Learner, LessonProgressRow, OutboxRow
from tests.builders import button, coach_service, command, sender, text
from tests.test_handoff_model import Clock, Process

CHANNEL = Capabilities("test", Buttons.INLINE, pull=False)
STEPS = ("start", "lang:en", "les:first-steps")


# The batching itself, without a database.


class Batches:
    """A ``run`` for ``GroupCommit`` that keeps its batches and waits while told to."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []
        self.began: asyncio.Queue[list[str]] = asyncio.Queue()  # each batch as it begins
        self.go = asyncio.Event()
        self.go.set()
        self.fail: set[str] = set()

    async def __call__(self, items: list[str]) -> list[str | Exception]:
        self.seen.append(list(items))
        self.began.put_nowait(list(items))
        await self.go.wait()
        if "whole batch fails" in items:
            raise RuntimeError("the batch failed")
        return [ValueError(item) if item in self.fail else item.upper() for item in items]


def lane(item: str) -> str:
    return item.split(":")[0]


async def started(batches: Batches, commit: GroupCommit[str, str], item: str) -> asyncio.Task[str]:
    """Submit ``item`` with the batches held, once its batch has begun."""
    batches.go.clear()
    task = asyncio.create_task(commit.submit(item))
    assert await batches.began.get() == [item]
    return task


async def test_what_comes_during_a_batch_goes_together_in_the_next() -> None:
    batches = Batches()
    commit = GroupCommit(batches, lane)
    first = await started(batches, commit, "a:1")
    rest = [asyncio.create_task(commit.submit(item)) for item in ("b:1", "c:1", "d:1")]
    await asyncio.sleep(0)
    batches.go.set()
    assert await first == "A:1"
    assert await asyncio.gather(*rest) == ["B:1", "C:1", "D:1"]
    assert batches.seen == [["a:1"], ["b:1", "c:1", "d:1"]]
    assert (commit.batches, commit.items) == (2, 4)


async def test_an_item_alone_is_not_kept_waiting() -> None:
    batches = Batches()
    commit = GroupCommit(batches, lane)
    assert await commit.submit("a:1") == "A:1"
    assert await commit.submit("a:2") == "A:2"
    assert batches.seen == [["a:1"], ["a:2"]]


async def test_one_lane_goes_one_item_a_batch_in_the_order_it_came() -> None:
    batches = Batches()
    commit = GroupCommit(batches, lane)
    first = await started(batches, commit, "x:1")
    rest = [asyncio.create_task(commit.submit(i)) for i in ("y:1", "x:2", "y:2", "x:3", "z:1")]
    await asyncio.sleep(0)
    batches.go.set()
    await asyncio.gather(first, *rest)
    assert batches.seen == [["x:1"], ["y:1", "x:2", "z:1"], ["y:2", "x:3"]]


async def test_a_batch_takes_at_most_so_many() -> None:
    batches = Batches()
    commit = GroupCommit(batches, lane, most=2)
    first = await started(batches, commit, "a:1")
    rest = [asyncio.create_task(commit.submit(i)) for i in ("b:1", "c:1", "d:1")]
    await asyncio.sleep(0)
    batches.go.set()
    await asyncio.gather(first, *rest)
    assert batches.seen == [["a:1"], ["b:1", "c:1"], ["d:1"]]


async def test_each_item_gets_its_own_failure_and_a_failed_batch_only_its_own() -> None:
    batches = Batches()
    batches.fail = {"b:1"}
    commit = GroupCommit(batches, lane)
    first = await started(batches, commit, "a:1")
    rest = [asyncio.create_task(commit.submit(i)) for i in ("b:1", "c:1")]
    await asyncio.sleep(0)
    batches.go.set()
    outcomes = await asyncio.gather(first, *rest, return_exceptions=True)
    assert outcomes[0] == "A:1" and outcomes[2] == "C:1"
    assert isinstance(outcomes[1], ValueError)
    with pytest.raises(RuntimeError, match="the batch failed"):
        await commit.submit("whole batch fails")
    assert await commit.submit("e:1") == "E:1"


async def test_a_caller_that_stops_waiting_does_not_stop_its_item() -> None:
    batches = Batches()
    commit = GroupCommit(batches, lane)
    first = await started(batches, commit, "a:1")
    gone = asyncio.create_task(commit.submit("b:1"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    batches.go.set()
    assert await first == "A:1"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await batches.began.get() == ["b:1"]  # handled all the same
    assert batches.seen == [["a:1"], ["b:1"]]


# The coach's batches, on SQLite and PostgreSQL.


@pytest.fixture
async def service(engine: AsyncEngine) -> AsyncIterator[CoachService]:
    yield coach_service(engine)


def transactions(engine: AsyncEngine) -> Counter[str]:
    """Commits, and statements by verb and table, on ``engine`` from now on."""
    seen: Counter[str] = Counter()

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(_conn: Any) -> None:
        seen["COMMIT"] += 1

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.replace("(", " ").split()
        verb = words[0].upper()
        if verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            marker = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}
            upper = [w.upper() for w in words]
            table = words[upper.index(marker[verb]) + 1] if marker[verb] in upper else "?"
            seen[f"{verb} {table.strip(chr(34))}"] += 1

    return seen


async def at_once(service: CoachService, events: list[Inbound]) -> list[Handled]:
    """Handle these events as if they all arrived together."""
    return list(await asyncio.gather(*(service.handle(e, CHANNEL) for e in events)))


async def lesson_step(engine: AsyncEngine, who: str) -> str | None:
    async with engine.connect() as connection:
        learner = (
            await connection.execute(select(Learner.id).where(Learner.chat_id == who))
        ).scalar_one()
        query = select(LessonProgressRow.step_id).where(LessonProgressRow.learner_id == learner)
        return (await connection.execute(query)).scalar_one_or_none()


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(table)
        return int((await connection.execute(query)).scalar_one())


def texts(handled: Handled) -> list[str]:
    return [message.text for message in handled]


async def test_learners_who_write_at_once_share_one_transaction(
    service: CoachService, engine: AsyncEngine
) -> None:
    people = [f"p{n}" for n in range(8)]
    for payload in STEPS:  # every learner at the first step of a lesson, one by one
        for who in people:
            await service.handle(_event(payload, who), CHANNEL)
    before = (service.turns.batches, await count(engine, EventRow), batch_sizes())
    service.known = KnownStates()  # as after a restart: their progress is read (at once)
    seen = transactions(engine)
    answers = await at_once(service, [button("next:first-steps/hello", sender(p)) for p in people])
    assert service.turns.batches - before[0] == 1
    count_now, sum_now = batch_sizes()
    assert (count_now - before[2][0], sum_now - before[2][1]) == (1, 8)  # for /metrics
    assert seen["COMMIT"] == 1
    for table in ("learners", "lesson_progress", "inbound_keys", "events", "outbox"):
        assert seen[f"INSERT {table}"] + seen[f"UPDATE {table}"] == 1, (table, seen)
    assert seen["SELECT learners"] == 1 and seen["SELECT lesson_progress"] == 1
    reference = texts(answers[0])
    assert reference, "the step answered"
    assert all(texts(answer) == reference for answer in answers)
    assert len({m.id for answer in answers for m in answer}) == len(people) * len(reference)
    for who in people:
        assert await lesson_step(engine, who) == "colour"
    assert await count(engine, EventRow) > before[1]


def batch_sizes() -> tuple[float, float]:
    """How many batches ``/metrics`` counted, and how many events they held."""
    count = REGISTRY.get_sample_value("coach_event_batch_size_count") or 0.0
    return count, REGISTRY.get_sample_value("coach_event_batch_size_sum") or 0.0


def _event(payload: str, who: str) -> Inbound:
    return command("start", sender(who)) if payload == "start" else button(payload, sender(who))


async def test_one_learner_s_events_keep_their_order(
    service: CoachService, engine: AsyncEngine
) -> None:
    await service.handle(command("start", sender("other")), CHANNEL)  # holds the first batch
    events = [_event(payload, "u1") for payload in STEPS]
    answers = await at_once(service, [command("start", sender("u2")), *events])
    assert await lesson_step(engine, "u1") == "hello"
    assert texts(answers[3])[-1] == "Hello there."  # the lesson began after its language
    assert await count(engine, InboundKey) == 5


async def test_a_turn_that_fails_fails_alone_and_can_be_sent_again(
    service: CoachService, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_step = core_turn.step

    def step(state: Any, event: Inbound, *rest: Any, **named: Any) -> Any:
        if event.sender.user_id == "broken":
            raise RuntimeError("this turn broke")
        return real_step(state, event, *rest, **named)

    monkeypatch.setattr(coach_module, "step", step)
    people = ["a", "b", "broken", "c"]
    events = [command("start", sender(p)) for p in people]
    outcomes = await asyncio.gather(
        *(service.handle(e, CHANNEL) for e in events), return_exceptions=True
    )
    assert isinstance(outcomes[2], RuntimeError)
    for outcome in (outcomes[0], outcomes[1], outcomes[3]):
        assert isinstance(outcome, Handled) and texts(outcome)
    assert await count(engine, InboundKey) == 3  # the broken one is not marked as done
    monkeypatch.setattr(coach_module, "step", real_step)
    again = await service.handle(events[2], CHANNEL)
    assert texts(again) == texts(outcomes[0])  # type: ignore[arg-type]


async def test_an_erasure_is_handled_beside_the_others(
    service: CoachService, engine: AsyncEngine
) -> None:
    people = ["a", "b", "gone", "c"]
    for who in people:
        await service.handle(command("start", sender(who)), CHANNEL)
    await service.handle(command("forget", sender("gone")), CHANNEL)
    await service.handle(command("start", sender("first")), CHANNEL)
    events = [
        button("forget:yes", sender(who)) if who == "gone" else button("lang:en", sender(who))
        for who in people
    ]
    batches, seen = service.turns.batches, transactions(engine)
    answers = await at_once(service, [command("start", sender("holds")), *events])
    assert (service.turns.batches - batches, seen["COMMIT"]) == (1, 1)
    assert all(texts(answer) for answer in answers)
    async with engine.connect() as connection:
        left = set((await connection.execute(select(Learner.chat_id))).scalars())
    assert "gone" not in left and {"a", "b", "c", "holds"} <= left
    for who in ("a", "b", "c"):
        async with engine.connect() as connection:
            language = (
                await connection.execute(select(Learner.language).where(Learner.chat_id == who))
            ).scalar_one()
        assert language == "en"
    assert await count(engine, OutboxRow) > 0


async def test_messages_that_come_together_are_looked_up_together(
    database_url: str, engine: AsyncEngine
) -> None:
    """Whether a message is a volunteer's is read before it is handled: the messages that
    come while one is read are read together, in one look-up."""
    process = Process.start(database_url, Clock())
    try:
        seen = transactions(process.engine)
        events = [text("hello", sender(f"p{n}")) for n in range(8)]
        handled = await asyncio.gather(*(process.volunteer_desk.handle(e, CHANNEL) for e in events))
        assert handled == [None] * 8  # learners' messages: the coach's, not the desk's
        assert (seen["SELECT volunteers"], seen["SELECT inbound_keys"]) == (1, 1)
    finally:
        await process.engine.dispose()


def test_an_outbox_draft_has_the_outbox_s_columns() -> None:
    """A draft is written as the outbox row it stands for: no column missing, none more."""
    drafted = {f.name for f in dataclasses.fields(OutboxDraft)}
    assert drafted == {column.key for column in OutboxRow.__table__.columns}


async def test_review_items_are_written_when_one_turn_of_the_batch_changes_them(
    service: CoachService, engine: AsyncEngine
) -> None:
    people = ["a", "b", "ivan"]
    for payload in (*STEPS, "next:first-steps/hello"):
        for who in people:
            await service.handle(_event(payload, who), CHANNEL)
    await service.handle(command("start", sender("holds")), CHANNEL)
    wrong = "ans:first-steps/colour/0"  # a missed question comes back later
    events = [button(wrong if who == "ivan" else "menu", sender(who)) for who in people]
    await at_once(service, events)
    async with engine.connect() as connection:
        found = dict((await connection.execute(select(Learner.chat_id, Learner.reviews))).all())
    assert [item[:2] for item in found["ivan"]] == [["first-steps", "colour"]]
    assert found["a"] == found["b"] == []

"""The same event twice changes nothing; two events for one learner at once never skip a step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Buttons, Capabilities
from bot.services.coach import CoachService
from bot.store.tables import EventRow, Learner, OutboxRow
from tests.builders import NOW, button, coach_service, command, sender, text

CHANNEL = Capabilities("test", Buttons.INLINE, pull=False)


@pytest.fixture
async def service(engine: AsyncEngine) -> AsyncIterator[CoachService]:
    yield coach_service(engine)


async def count(engine: AsyncEngine, what: object) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(what))).scalar_one())  # type: ignore[arg-type]


async def in_lesson(service: CoachService, who: str = "u1") -> None:
    """Bring a learner to the first step of the first lesson."""
    for event in (
        command("start", sender(who)),
        button("lang:en", sender(who)),
        button("les:first-steps", sender(who)),
    ):
        await service.handle(event, CHANNEL)


async def step_of(service: CoachService, who: str = "u1") -> str | None:
    async with service.store.unit_of_work() as uow:
        row = await uow.learners.find(sender(who), lock=False)
        assert row is not None
        state = await uow.learners.state_of(row)
    return state.progress["first-steps"].step_id


async def test_a_redelivered_event_changes_nothing_and_gets_the_same_replies(
    service: CoachService, engine: AsyncEngine
) -> None:
    await in_lesson(service)
    event = button("next:first-steps/hello")
    first = await service.handle(event, CHANNEL)
    outbox, events = await count(engine, OutboxRow), await count(engine, EventRow)
    again = await service.handle(replace(event, at=NOW), CHANNEL)
    assert [m.id for m in again] == [m.id for m in first]
    assert await count(engine, OutboxRow) == outbox
    assert await count(engine, EventRow) == events
    assert await step_of(service) == "colour"


async def test_the_same_event_delivered_twice_at_once_is_handled_once(
    service: CoachService, engine: AsyncEngine
) -> None:
    await in_lesson(service)
    event = button("next:first-steps/hello")
    first, second = await asyncio.gather(
        service.handle(event, CHANNEL), service.handle(event, CHANNEL)
    )
    assert [m.id for m in first] == [m.id for m in second]
    assert await step_of(service) == "colour"
    async with engine.connect() as connection:
        done = await connection.execute(select(func.count()).where(EventRow.name == "step_done"))
        assert done.scalar_one() == 1


async def test_two_taps_on_next_at_the_same_moment_advance_one_step(service: CoachService) -> None:
    await in_lesson(service)
    replies = await asyncio.gather(
        *(service.handle(button("next:first-steps/hello"), CHANNEL) for _ in range(4))
    )
    assert await step_of(service) == "colour"
    said = sorted(m.text for batch in replies for m in batch[:1])
    assert said.count("Which is a colour?") == 1
    assert said.count("This button is from an earlier message.") == 3


async def test_two_answers_at_once_are_graded_one_after_the_other(service: CoachService) -> None:
    await in_lesson(service)
    await service.handle(button("next:first-steps/hello"), CHANNEL)
    await asyncio.gather(
        service.handle(text("2"), CHANNEL),
        service.handle(button("ans:first-steps/colour/1"), CHANNEL),
    )
    # The first answer moves on to the next quiz; the second is stale, or answers the new question.
    assert await step_of(service) in ("animal", "photo")


async def test_a_new_learner_writing_twice_at_once_is_one_learner(
    service: CoachService, engine: AsyncEngine
) -> None:
    await asyncio.gather(
        *(service.handle(command("start", sender("new")), CHANNEL) for _ in range(3))
    )
    assert await count(engine, Learner) == 1


async def test_many_learners_at_once_each_keep_their_own_place(service: CoachService) -> None:
    learners = [f"u{i}" for i in range(8)]
    await asyncio.gather(*(in_lesson(service, who) for who in learners))
    await asyncio.gather(
        *(
            service.handle(button("next:first-steps/hello", sender(who)), CHANNEL)
            for who in learners
        )
    )
    assert [await step_of(service, who) for who in learners] == ["colour"] * len(learners)


async def test_outbox_rows_wait_for_a_push_channel_and_are_sent_for_a_pull_channel(
    service: CoachService, engine: AsyncEngine
) -> None:
    await service.handle(command("start", sender("push")), CHANNEL)
    await service.handle(
        command("start", sender("pull")), Capabilities("web", Buttons.INLINE, pull=True)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(select(OutboxRow.channel, OutboxRow.status))).all()
    assert {(channel, status) for channel, status in rows} == {("test", "pending"), ("web", "sent")}

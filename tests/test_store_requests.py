"""A request's row keeps whether the learner went back to the lessons while a volunteer helps,
and only for as long as a volunteer holds it."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.channel import Capabilities
from bot.core.state import HelpRequest, RequestStatus
from bot.store.tables import Handoff
from tests.builders import NOW, coach_service, command, sender


async def test_back_to_the_lessons_is_kept_while_claimed_and_forgotten_once_requeued(
    engine: AsyncEngine,
) -> None:
    service = coach_service(engine)
    await service.handle(command("start"), Capabilities("test"))
    async with service.store.unit_of_work() as uow:
        learner = await uow.learners.find(sender(), lock=False)
        assert learner is not None
        asked = HelpRequest(RequestStatus.OPEN, step=None, topic="email")
        handoff_id = await uow.requests.save(learner.id, None, asked, "en", NOW)
        await uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id).values(status="claimed")
        )

    async def current() -> HelpRequest | None:
        async with service.store.unit_of_work() as uow:
            return await uow.requests.current(learner.id)

    async def step() -> str | None:
        async with service.store.unit_of_work() as uow:
            row = await uow.session.get(Handoff, handoff_id)
            assert row is not None
            return row.step

    talking = await current()
    assert talking is not None and talking.relaying
    async with service.store.unit_of_work() as uow:
        await uow.requests.save(learner.id, talking, replace(talking, in_lessons=True), "en", NOW)
    assert await step() == "lessons"
    in_lessons = await current()
    assert in_lessons is not None and in_lessons.in_lessons and in_lessons.step is None

    async with service.store.unit_of_work() as uow:  # the volunteer is removed: back in the queue
        await uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id).values(status="open", volunteer_id=None)
        )
    waiting = await current()
    assert waiting is not None and waiting.status is RequestStatus.OPEN
    assert not waiting.in_lessons and waiting.step is None
    async with service.store.unit_of_work() as uow:
        await uow.requests.save(learner.id, waiting, waiting, "en", NOW)
    assert await step() is None

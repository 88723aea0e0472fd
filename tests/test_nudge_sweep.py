"""Reminders through the real sweep and database: on time, in daytime, once, never after stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.core.channel import Buttons, Capabilities
from bot.core.events import Sender
from bot.core.rules import Rules
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.services.nudging import NudgeSweep
from bot.store import nudge_batches
from bot.store.database import create_engine
from bot.store.tables import OutboxRow
from bot.store.unit_of_work import Store
from tests.builders import NOW, button, command, sender
from tests.conftest import JOURNEY_COURSE, ROOT

WEB = Capabilities("test", Buttons.INLINE, pull=True)  # the channel of tests.builders
ZONES = ("Europe/Paris", "Asia/Kabul", "America/New_York", "Pacific/Kiritimati")


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    service: CoachService
    sweep: NudgeSweep
    clock: Clock
    engine: AsyncEngine

    async def learner_in_lesson(self, who: str, zone: int = 0) -> None:
        """A learner who starts the first lesson and then goes quiet."""
        for event in (command("start", sender(who)), button("lang:en", sender(who))):
            await self.service.handle(event, WEB)
        await self.service.handle(button(f"tz:{zone}", sender(who)), WEB)
        await self.service.handle(button("les:first-steps", sender(who)), WEB)

    async def says(self, who: str, command_text: str) -> None:
        """A command such as ``/pause 10``."""
        name, _, argument = command_text[1:].partition(" ")
        event = replace(command(name, sender(who)), argument=argument or None)
        await self.service.handle(event, WEB)

    async def run(self, days: float, every_minutes: int = 30) -> None:
        """Let the coach's clock run, sweeping as the scheduler would."""
        end = self.clock.now + timedelta(days=days)
        while self.clock.now < end:
            self.clock.now += timedelta(minutes=every_minutes)
            await self.sweep.sweep(self.clock.now)

    async def nudges(self, who: str | None = None) -> list[OutboxRow]:
        async with self.engine.connect() as connection:
            query = select(OutboxRow).where(OutboxRow.inbound_key.like("nudge:%"))
            if who is not None:
                query = query.where(OutboxRow.chat_id == who)
            rows = (await connection.execute(query.order_by(OutboxRow.id))).all()
        return [OutboxRow(**row._mapping) for row in rows]


def make_world(engine: AsyncEngine, clock: Clock) -> World:
    catalogs = Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    courses = CourseHolder.load(JOURNEY_COURSE)
    rules = Rules(catalogs.names(), ZONES)
    store = Store(engine)
    service = CoachService(store, courses, catalogs, rules, default_language="en", clock=clock)
    sweep = NudgeSweep(store, courses, catalogs, rules, {WEB.name: WEB})
    return World(service, sweep, clock, engine)


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    yield make_world(engine, Clock())


def is_reminder(row: OutboxRow) -> bool:
    return "Later" in [b["label"].split(". ", 1)[1] for b in row.buttons]


async def test_a_quiet_learner_is_reminded_after_one_three_and_seven_days(world: World) -> None:
    await world.learner_in_lesson("amina")
    await world.run(days=20)
    reminders = [row for row in await world.nudges("amina") if row.buttons]
    sent_days = [(row.created_at - NOW).days for row in reminders]
    assert len(sent_days) == 4  # three reminders, then "shall I pause?"
    assert sent_days[:3] == [1, 3, 7]
    assert "pause my reminders" in reminders[-1].text
    assert "First steps" in reminders[0].text


async def test_no_reminder_at_night_in_any_time_zone_nor_two_in_a_day(world: World) -> None:
    for index in range(len(ZONES)):
        await world.learner_in_lesson(f"z{index}", zone=index)
    await world.run(days=16, every_minutes=20)
    rows = await world.nudges()
    assert len(rows) >= 4 * len(ZONES) - 2
    days_seen: set[tuple[str, object]] = set()
    for row in rows:
        if not row.buttons:
            continue
        zone = ZoneInfo(ZONES[int(row.chat_id[1:])])
        local = row.created_at.astimezone(zone)
        assert 10 <= local.hour < 19, (row.chat_id, local)
        assert (row.chat_id, local.date()) not in days_seen
        days_seen.add((row.chat_id, local.date()))


async def test_stop_silences_reminders_for_good(world: World) -> None:
    await world.learner_in_lesson("sam")
    await world.says("sam", "/stop")
    await world.run(days=15)
    assert await world.nudges("sam") == []


async def test_pause_holds_reminders_and_resume_lets_them_come_back(world: World) -> None:
    await world.learner_in_lesson("lea")
    await world.says("lea", "/pause 10")
    await world.run(days=9)
    assert await world.nudges("lea") == []
    await world.run(days=1.5)
    assert len(await world.nudges("lea")) == 1


async def test_later_snoozes_until_the_next_day(world: World) -> None:
    await world.learner_in_lesson("omar")
    await world.run(days=1.2)
    assert len(await world.nudges("omar")) == 1
    await world.service.handle(button("nudge:later", sender("omar")), WEB)
    snoozed_at = world.clock.now
    await world.run(days=1.5)
    reminders = await world.nudges("omar")
    assert len(reminders) == 2
    assert reminders[1].created_at.date() > snoozed_at.date()


async def test_a_missed_question_comes_back_in_a_reminder(world: World) -> None:
    await world.learner_in_lesson("ivan")
    await world.service.handle(button("next:first-steps/hello", sender("ivan")), WEB)
    await world.service.handle(button("ans:first-steps/colour/0", sender("ivan")), WEB)
    await world.service.handle(button("ans:first-steps/colour/1", sender("ivan")), WEB)
    await world.run(days=1.5)
    rows = await world.nudges("ivan")
    assert [row.text for row in rows][-1] == "A quick question to remember:\n\nWhich is a colour?"
    said = await world.service.handle(button("rev:first-steps/colour/1", sender("ivan")), WEB)
    assert said[0].text == "Yes!"
    async with world.service.store.unit_of_work() as uow:
        row = await uow.learners.find(sender("ivan"), lock=False)
        assert row is not None
        state = await uow.learners.state_of(row)
    assert state.reviews[0].box == 2


async def test_two_schedulers_on_one_database_send_each_reminder_once(
    world: World, database_url: str
) -> None:
    learners = [f"p{i}" for i in range(12)]
    for who in learners:
        await world.learner_in_lesson(who)
    other_engine = create_engine(database_url)
    other = make_world(other_engine, world.clock)
    try:
        for _ in range(3 * 48):
            world.clock.now += timedelta(minutes=30)
            await asyncio.gather(
                world.sweep.sweep(world.clock.now), other.sweep.sweep(world.clock.now)
            )
    finally:
        await other_engine.dispose()
    rows = await world.nudges()
    per_learner = {who: sum(row.chat_id == who for row in rows) for who in learners}
    assert per_learner == {who: 2 for who in learners}  # day 1 and day 3, once each


async def test_a_sweep_that_loses_the_database_sends_everything_later_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("a1", "a2", "a3"):
        await world.learner_in_lesson(who)
    world.clock.now += timedelta(days=1, hours=2)
    original = nudge_batches.write_outbox

    async def lost(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        await original(session, rows)
        raise OperationalError("INSERT", {}, ConnectionResetError("connection lost"))

    monkeypatch.setattr(nudge_batches, "write_outbox", lost)
    assert await world.sweep.sweep(world.clock.now) == 0
    assert await world.nudges() == []
    monkeypatch.setattr(nudge_batches, "write_outbox", original)
    await world.run(days=0.1)
    assert sorted(row.chat_id for row in await world.nudges()) == ["a1", "a2", "a3"]


async def test_learners_in_a_group_get_no_public_reminders(world: World) -> None:
    member = Sender("test", "-100", "u9", first_name="Ali", group=True)
    for event in (
        command("start", member),
        button("lang:en", member),
        button("les:first-steps", member),
    ):
        await world.service.handle(event, WEB)
    await world.run(days=4)
    assert await world.nudges("-100") == []

"""``coach simulate nudges``: the real service, policy and sweep on a virtual clock.

A synthetic cohort in many time zones starts a lesson and goes quiet; some answer their
reminders, some never do, some pause, some stop. The clock moves in steps of 15 minutes
and the reminder sweep runs at each step, as the scheduler would run it.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels.webchat import CHANNEL as WEB
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.rules import Rules
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.services.nudging import NudgeSweep
from bot.store.database import create_engine, upgrade
from bot.store.tables import EventRow
from bot.store.tables import Learner as LearnerRow
from bot.store.unit_of_work import Store

ZONES = (
    "Europe/Paris",
    "Europe/London",
    "Europe/Kyiv",
    "Africa/Addis_Ababa",
    "Asia/Kabul",
    "Asia/Tehran",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)
PERSONAS = ("answers", "answers", "silent", "pauses", "stops")
STEP = timedelta(minutes=15)
START = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # the simulated weeks cross a DST change


@dataclass
class Report:
    nudges_sent: int = 0
    local_hour_histogram: dict[int, int] = field(default_factory=dict)
    max_per_learner_per_day: int = 0
    after_stop: int = 0
    in_quiet_hours: int = 0
    returned_learners: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["local_hour_histogram"] = {
            str(h): n for h, n in sorted(self.local_hour_histogram.items())
        }
        return data


@dataclass
class Learner:
    name: str
    zone: int
    persona: str
    stopped_at: datetime | None = None
    answered: bool = False


class Simulation:
    def __init__(self, learners: int, days: int, seed: int, root: Path) -> None:
        self.random = random.Random(seed)
        self.days = days
        self.cohort = [
            Learner(f"sim-{i:05d}", self.random.randrange(len(ZONES)), self.random.choice(PERSONAS))
            for i in range(learners)
        ]
        self.root = root
        self.now = START
        self.keys = 0
        self.waiting: list[tuple[datetime, Learner, str]] = []
        self.ids: dict[int, Learner] = {}

    def clock(self) -> datetime:
        return self.now

    def event(self, who: Learner, kind: InboundKind, **fields: Any) -> Inbound:
        self.keys += 1
        sender = Sender(WEB.name, who.name, who.name, language_hint="en")
        return Inbound(sender, kind, self.now, f"sim:{self.keys}", **fields)

    async def run(self, database_url: str) -> Report:
        engine = create_engine(database_url)
        await upgrade(engine)
        catalogs = Catalogs(self.root / "locales", ["en", "fr", "ar"], "en")
        courses = CourseHolder.load(self.root / "curriculum")
        rules = Rules(catalogs.names(), ZONES)
        store = Store(engine)
        service = CoachService(
            store, courses, catalogs, rules, default_language="en", clock=self.clock
        )
        sweep = NudgeSweep(store, courses, catalogs, rules, {WEB.name: WEB})
        try:
            await self._onboard(service)
            await self._map_ids(store)
            end = START + timedelta(days=self.days)
            while self.now < end:
                self.now += STEP
                await self._answer(service)
                await sweep.sweep(self.now)
                await self._react(store)
            return await self._report(store)
        finally:
            await engine.dispose()

    async def _onboard(self, service: CoachService) -> None:
        """Each learner starts on day 0, at a daytime hour of their own, then goes quiet."""
        first = service.courses.course.lessons[0].id
        for who in self.cohort:
            self.now = START + timedelta(minutes=self.random.randrange(0, 24 * 60, 15))
            for kind, fields in (
                (InboundKind.COMMAND, {"command": "start"}),
                (InboundKind.BUTTON, {"payload": "lang:en"}),
                (InboundKind.BUTTON, {"payload": f"tz:{who.zone}"}),
                (InboundKind.BUTTON, {"payload": f"les:{first}"}),
            ):
                await service.handle(self.event(who, kind, **fields), WEB)
        self.now = START + timedelta(days=1)

    async def _react(self, store: Store) -> None:
        """What each persona does after a reminder it received in this step."""
        async with store.unit_of_work() as uow:
            rows = await uow.session.scalars(
                select(EventRow).where(EventRow.name == "nudge_sent", EventRow.at == self.now)
            )
            learner_ids = [row.learner_id for row in rows]
        for learner_id in learner_ids:
            who = self.ids.get(learner_id or -1)
            if who is None:
                continue
            if who.persona == "answers" and self.random.random() < 0.7:
                delay = timedelta(minutes=15 * self.random.randrange(1, 24))
                self.waiting.append((self.now + delay, who, "nudge:go"))
            elif who.persona == "pauses":
                self.waiting.append((self.now + STEP, who, "/pause"))
            elif who.persona == "stops":
                self.waiting.append((self.now + STEP, who, "/stop"))

    async def _answer(self, service: CoachService) -> None:
        due = [item for item in self.waiting if item[0] <= self.now]
        self.waiting = [item for item in self.waiting if item[0] > self.now]
        for _, who, action in due:
            if action.startswith("/"):
                event = self.event(who, InboundKind.COMMAND, command=action[1:], argument="3")
                if action == "/stop":
                    who.stopped_at = self.now
            else:
                event = self.event(who, InboundKind.BUTTON, payload=action)
                who.answered = True
            await service.handle(event, WEB)

    async def _map_ids(self, store: Store) -> None:
        async with store.unit_of_work() as uow:
            rows = (await uow.session.execute(select(LearnerRow.id, LearnerRow.user_id))).all()
        names = {who.name: who for who in self.cohort}
        self.ids = {row_id: names[user] for row_id, user in rows if user in names}

    async def _report(self, store: Store) -> Report:
        async with store.unit_of_work() as uow:
            sent = list(
                await uow.session.scalars(select(EventRow).where(EventRow.name == "nudge_sent"))
            )
        report = Report(nudges_sent=len(sent))
        hours: Counter[int] = Counter()
        per_day: Counter[tuple[int, object]] = Counter()
        for row in sent:
            who = self.ids[row.learner_id or -1]
            local = row.at.astimezone(ZoneInfo(ZONES[who.zone]))
            hours[local.hour] += 1
            per_day[(row.learner_id or -1, local.date())] += 1
            report.in_quiet_hours += local.hour >= 21 or local.hour < 9
            report.after_stop += who.stopped_at is not None and row.at > who.stopped_at
        report.local_hour_histogram = dict(sorted(hours.items()))
        report.max_per_learner_per_day = max(per_day.values(), default=0)
        report.returned_learners = sum(who.answered for who in self.cohort)
        return report


async def simulate(learners: int, days: int, seed: int, root: Path) -> Report:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/simulation.db"
        return await Simulation(learners, days, seed, root).run(url)

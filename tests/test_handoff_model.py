"""The hand-off desk under random interleavings, across two coach processes on one database.

Learners (web chat) ask for a person, change or cancel their request, and write; volunteers
(Telegram) race to claim, write back and close; an admin removes the volunteer who holds a
request; the clock runs and both processes sweep; a process restarts. After every step:
at most one volunteer holds a request, the learner always has a way out, every message
between a learner and a volunteer arrived exactly once, and no sweep left a due row behind.
The model checks behaviour (statuses, who holds what, counts of rows), never wording.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import re
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.registry import known_channels
from bot.core import payloads
from bot.core.events import Inbound, InboundKind, Sender
from bot.core.rules import HandoffRules, Place, Rules
from bot.core.volunteering import INVITE_PREFIX, OUTCOMES, volunteer_payload
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.services.handoffs import HandoffDesk
from bot.services.volunteer_desk import VolunteerDesk
from bot.services.volunteers import Volunteers
from bot.store.database import create_engine, upgrade
from bot.store.outbox import OutboundMessage
from bot.store.tables import Base, EventRow, Handoff, Learner, OutboxRow
from bot.store.unit_of_work import Store
from scheduler.jobs import sweep
from tests.builders import NOW
from tests.conftest import JOURNEY_COURSE, ROOT

T = TypeVar("T")
CHANNELS = known_channels()
WEB, TELEGRAM = CHANNELS["web"], CHANNELS["telegram"]
LEARNERS = 3
LIBRARY = Place("library", "Library", ((1, time(14), time(17)), (5, time(10), time(12))))
ACTIVE = ("intake", "open", "claimed")
LETTERS = "bcdfghjklmnpqrstvwxz"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@functools.cache
def loaded() -> tuple[Catalogs, CourseHolder]:
    """The catalogs and the course, read once: every process reads the same files."""
    return Catalogs(ROOT / "locales", ["en", "fr", "ar"], "en"), CourseHolder.load(JOURNEY_COURSE)


@dataclass
class Process:
    """One coach process: its own engine, learner service, hand-off desk and volunteer desk."""

    engine: AsyncEngine
    service: CoachService
    desk: HandoffDesk
    volunteers: Volunteers
    volunteer_desk: VolunteerDesk

    @classmethod
    def start(cls, url: str, clock: Clock) -> Process:
        catalogs, courses = loaded()
        rules = Rules(catalogs.names(), handoff=HandoffRules(places=(LIBRARY,)))
        engine = create_engine(url)
        store = Store(engine)
        desk = HandoffDesk(store, courses, catalogs, rules, CHANNELS, clock, coordinators=("9999",))
        service = CoachService(
            store, courses, catalogs, rules, default_language="en", clock=clock, desk=desk
        )
        volunteers = Volunteers(store, clock)
        return cls(engine, service, desk, volunteers, VolunteerDesk(desk, volunteers, catalogs))


@dataclass
class Person:
    """A volunteer as the model knows them."""

    id: int
    telegram: str
    active: bool = True


@dataclass
class Request:
    """A learner's request as the model expects it; ``status`` as the learner lives it."""

    id: int
    status: str  # open, claimed, rating, comment
    holder: int | None = None


@dataclass
class Sent:
    """A message between a learner and a volunteer: where it must arrive, and how often."""

    token: str
    chats: tuple[str, ...]
    least: int
    most: int

    @classmethod
    def exactly(cls, token: str, chat: str, times: int) -> Sent:
        return cls(token, (chat,), times, times)


@dataclass
class Model:
    requests: dict[int, Request | None] = field(default_factory=dict)  # by learner number
    people: list[Person] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    swept_at: datetime | None = None


async def at_once(*steps: Awaitable[T]) -> list[T]:
    """Run the steps concurrently; all of them end before the first failure is raised, so
    no transaction is left running into the next step."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def learner_chat(number: int) -> str:
    return f"web-learner-{number}"


class TwoCoachProcesses(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.clock = Clock()
        self.keys = itertools.count(1)
        self.observer = create_engine(self.url)
        self.processes = [Process.start(self.url, self.clock) for _ in range(2)]
        self.model = Model()
        self.learner_ids: dict[int, int] = {}
        try:
            self.run(self._begin())
        except BaseException:
            self.teardown()
            raise

    async def _begin(self) -> None:
        await self._empty()
        for number in range(LEARNERS):
            await self.learner(number, 0, command="start")
            await self.learner(number, 1, payload=payloads.language("en"))
            self.model.requests[number] = None
        for languages in ([], ["en"], ["fr"]):
            await self.invite(languages)
        await self.learner_numbers()

    # --- plumbing

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    def teardown(self) -> None:
        async def close() -> None:
            for process in self.processes:
                await process.engine.dispose()
            await self.observer.dispose()

        try:
            self.run(close())
        finally:
            self.runner.close()

    async def _empty(self) -> None:
        async with self.observer.begin() as connection:
            if self.observer.dialect.name == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    await connection.execute(delete(table))

    async def learner_numbers(self) -> None:
        async with self.observer.connect() as connection:
            rows = await connection.execute(select(Learner.chat_id, Learner.id))
            by_chat = {chat: id_ for chat, id_ in rows}
        self.learner_ids = {n: by_chat[learner_chat(n)] for n in range(LEARNERS)}

    def key(self, prefix: str) -> str:
        return f"{prefix}-{next(self.keys)}"

    def token(self) -> str:
        """A word no rule reads as a number, a command or a help word."""
        n, word = next(self.keys), ""
        while True:
            n, digit = divmod(n, len(LETTERS))
            word += LETTERS[digit]
            if not n:
                return f"zq{word}"

    async def learner(
        self,
        number: int,
        process: int,
        *,
        text_: str | None = None,
        command: str | None = None,
        payload: str | None = None,
    ) -> list[OutboundMessage]:
        """One thing a web chat learner does; what the coach answers at once."""
        chat = learner_chat(number)
        who = Sender("web", chat, chat, first_name=f"Learner{number}", language_hint="en")
        key = self.key("web")
        if command is not None:
            event = Inbound(
                who, InboundKind.COMMAND, self.clock.now, key, text=f"/{command}", command=command
            )
        elif payload is not None:
            event = Inbound(who, InboundKind.BUTTON, self.clock.now, key, payload=payload)
        else:
            event = Inbound(who, InboundKind.TEXT, self.clock.now, key, text=text_)
        return list(await self.processes[process].service.handle(event, WEB))

    async def volunteer_event(
        self, person: Person, process: int, **fields: Any
    ) -> list[OutboundMessage] | None:
        """One Telegram update from a volunteer, through the volunteer desk."""
        who = Sender("telegram", person.telegram, person.telegram, first_name="V")
        kind = InboundKind.BUTTON if "payload" in fields else InboundKind.COMMAND
        if "text" in fields and "command" not in fields:
            kind = InboundKind.TEXT
        event = Inbound(who, kind, self.clock.now, self.key("tg"), **fields)
        handled = await self.processes[process].volunteer_desk.handle(event, TELEGRAM)
        return None if handled is None else list(handled)

    async def invite(self, languages: list[str]) -> None:
        volunteers = self.processes[0].volunteers
        telegram = str(70000 + len(self.model.people))
        invite = await volunteers.invite(f"V{len(self.model.people)}", languages, [], "coach_bot")
        registered = await volunteers.redeem(
            invite.link.split(f"start={INVITE_PREFIX}")[1], telegram
        )
        assert registered is not None
        self.model.people.append(Person(registered.id, telegram))

    async def handoffs(self) -> dict[int, Handoff]:
        async with self.observer.connect() as connection:
            rows = await connection.execute(select(Handoff))
            return {row.id: Handoff(**row._mapping) for row in rows}

    async def outbox(self) -> list[OutboxRow]:
        async with self.observer.connect() as connection:
            rows = await connection.execute(select(OutboxRow).order_by(OutboxRow.id))
            return [OutboxRow(**row._mapping) for row in rows]

    async def rows_to(self, chat: str, after: int = 0) -> list[OutboxRow]:
        return [row for row in await self.outbox() if row.chat_id == chat and row.id > after]

    async def last_id(self) -> int:
        async with self.observer.connect() as connection:
            found = await connection.scalar(select(func.max(OutboxRow.id)))
        return int(found or 0)

    async def events(self, name: str) -> list[EventRow]:
        async with self.observer.connect() as connection:
            rows = await connection.execute(
                select(EventRow).where(EventRow.name == name).order_by(EventRow.id)
            )
            return [EventRow(**row._mapping) for row in rows]

    async def delivered(self) -> None:
        """Telegram messages go out as the sender would send them: each gets a message id,
        so a later claim or cancel edits the alerts in place."""
        async with self.observer.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE outbox SET status = 'sent', platform_message_id = CAST(id AS VARCHAR)"
                    " WHERE channel = 'telegram' AND status = 'pending'"
                )
            )

    def person(self, volunteer_id: int) -> Person:
        return next(p for p in self.model.people if p.id == volunteer_id)

    def numbers_with(self, *statuses: str | None) -> list[int]:
        return [
            n
            for n, request in self.model.requests.items()
            if (request.status if request else None) in statuses
        ]

    # --- the learner's side
    #
    # Every rule draws the same values whatever the state (which learner, which option, as
    # numbers taken modulo what there is): races make the state differ from run to run, and
    # Hypothesis must see the same draws when it replays a case.

    def pick(self, index: int, *statuses: str | None) -> int | None:
        """A learner whose request is in one of ``statuses``, or None when there is none."""
        found = self.numbers_with(*statuses)
        return found[index % len(found)] if found else None

    async def _answer(
        self,
        number: int,
        process: int,
        said: list[OutboundMessage],
        answers: list[int],
        typed: list[bool],
    ) -> None:
        """Answer the intake's questions until the request is sent, tapping or typing."""
        for answer, types in zip(answers, typed, strict=True):
            offered = [m for m in said if m.buttons][-1:]
            assert offered, f"an intake question without options: {[m.text for m in said]}"
            skipped = (payloads.handoff("cancel"), payloads.handoff("topic", "other"))
            options = [
                (n, b.payload)
                for n, b in enumerate(offered[0].buttons, 1)
                if b.payload.startswith("ho:") and b.payload not in skipped
            ]
            assert options, f"an intake question with no answer: {offered[0].text!r}"
            n, chosen = options[answer % len(options)]
            if types:
                said = await self.learner(number, process, text_=str(n))
            else:
                said = await self.learner(number, process, payload=chosen)
            if chosen.startswith("ho:name/"):
                return
        raise AssertionError("the intake never ended")

    @rule(
        who=st.integers(0, LEARNERS - 1),
        process=st.integers(0, 1),
        answers=st.lists(st.integers(0, 5), min_size=4, max_size=4),
        typed=st.lists(st.booleans(), min_size=4, max_size=4),
    )
    def learner_asks_for_a_person(
        self, who: int, process: int, answers: list[int], typed: list[bool]
    ) -> None:
        """/help, then a topic, where, when and the first name, by button or typed number;
        a learner who has a request changes it instead."""
        number = self.pick(who, None, "rating", "comment", "open")
        if number is None:
            return
        request = self.model.requests[number]

        async def ask() -> None:
            said = await self.learner(number, process, command="help")
            if request is not None and request.status == "open":
                update = payloads.handoff("update")
                offered = [b.payload for m in said for b in m.buttons]
                assert update in offered, [m.text for m in said]
                said = await self.learner(number, process, payload=update)
            await self._answer(number, process, said, answers, typed)

        self.run(ask())
        handoff = self.run(self.current(number))
        assert handoff is not None and handoff.status == "open", handoff
        assert handoff.escalate_at is not None and handoff.day_ends_at is not None
        if request is not None and request.status == "open":
            assert handoff.id == request.id, "changing a request made a new one"
        self.model.requests[number] = Request(handoff.id, "open")

    @rule(who=st.integers(0, LEARNERS - 1), process=st.integers(0, 1))
    def learner_cancels(self, who: int, process: int) -> None:
        number = self.pick(who, "open", "claimed")
        if number is None:
            return
        request = self.model.requests[number]
        assert request is not None
        holder = self.person(request.holder) if request.holder else None
        before = self.run(self.last_id())
        self.run(self.learner(number, process, command="cancel"))
        handoff = self.run(self.handoffs())[request.id]
        assert handoff.status == "cancelled", handoff.status
        if holder is not None:
            told = self.run(self.rows_to(holder.telegram, before))
            assert told, "the volunteer who held the request was not told it was cancelled"
        self.model.requests[number] = None

    @rule(who=st.integers(0, LEARNERS - 1), process=st.integers(0, 1))
    def learner_writes(self, who: int, process: int) -> None:
        """Words typed while a volunteer helps go to that volunteer; at other times to nobody."""
        number = self.pick(who, "claimed", "open", "rating", "comment", None)
        assert number is not None
        request = self.model.requests[number]
        token = self.token()
        said = self.run(self.learner(number, process, text_=f"Hello {token}"))
        assert all(token not in m.text for m in said), "the learner's words came back to them"
        helping = request is not None and request.status == "claimed" and request.holder
        holder = self.person(request.holder) if request and helping and request.holder else None
        if request is not None and request.status == "comment":
            self.model.requests[number] = None  # the words are the comment
        for person in self.model.people:
            self.model.sent.append(Sent.exactly(token, person.telegram, int(person is holder)))

    @rule(
        who=st.integers(0, LEARNERS - 1),
        process=st.integers(0, 1),
        stars=st.integers(1, 5),
        comment=st.sampled_from(["write", "skip", "later"]),
    )
    def learner_rates(self, who: int, process: int, stars: int, comment: str) -> None:
        """The learner taps the stars, then writes a comment, skips it, or leaves it."""
        number = self.pick(who, "rating", "comment")
        if number is None:
            return
        request = self.model.requests[number]
        assert request is not None
        if request.status == "rating":
            self.run(self.learner(number, process, payload=payloads.handoff("rate", str(stars))))
            assert self.run(self.handoffs())[request.id].rating == stars
            request.status = "comment"
        if comment == "write":
            self.run(self.learner(number, process, text_="Very kind"))
        elif comment == "skip":
            self.run(self.learner(number, process, payload=payloads.handoff("skip")))
        if comment != "later":
            self.model.requests[number] = None

    # --- the volunteers' side

    async def live(self, number: int, *statuses: str) -> list[Handoff]:
        learner_id = self.learner_ids[number]
        return [
            h
            for h in (await self.handoffs()).values()
            if h.learner_id == learner_id and h.status in statuses
        ]

    async def as_stored(self, number: int) -> Request | None:
        """The learner's request as the database has it, after a race decided the order."""
        learner_id = self.learner_ids[number]
        rows = [
            h
            for h in (await self.handoffs()).values()
            if h.learner_id == learner_id
            and (h.status in ACTIVE or h.step in ("rating", "comment"))
        ]
        if not rows:
            return None
        row = max(rows, key=lambda h: h.id)
        assert row.status != "intake", "a race left an intake behind"
        if row.status == "closed":
            return Request(row.id, str(row.step))
        return Request(row.id, row.status, row.volunteer_id)

    async def current(self, number: int) -> Handoff | None:
        learner_id = self.learner_ids[number]
        live = [
            h
            for h in (await self.handoffs()).values()
            if h.learner_id == learner_id and h.status in ACTIVE
        ]
        assert len(live) <= 1, f"learner {number} has {len(live)} live requests"
        return live[0] if live else None

    def requests(self) -> list[int]:
        return sorted(r.id for r in self.model.requests.values() if r is not None)

    def held(self) -> list[tuple[int, Request]]:
        return [(n, r) for n, r in self.model.requests.items() if r and r.status == "claimed"]

    def learner_of(self, request_id: int) -> tuple[int, Request]:
        return next(
            (n, r) for n, r in self.model.requests.items() if r is not None and r.id == request_id
        )

    @rule(
        who=st.integers(0, LEARNERS - 1),
        pressing=st.lists(st.integers(0, 30), min_size=1, max_size=3),
        ways=st.lists(st.tuples(st.integers(0, 1), st.booleans()), min_size=3, max_size=3),
    )
    def volunteers_claim_at_once(
        self, who: int, pressing: list[int], ways: list[tuple[int, bool]]
    ) -> None:
        """One or more volunteers press "I take it" at the same moment, in either process;
        some by the button in Telegram, some through the desk (removed ones too)."""
        number = self.pick(who, "open", "claimed", "rating", "comment")
        if number is None:
            return
        request = self.model.requests[number]
        assert request is not None
        people = list(
            {
                p.id: p for p in (self.model.people[i % len(self.model.people)] for i in pressing)
            }.values()
        )
        before = self.run(self.last_id())
        was = self.run(self.handoffs())[request.id]

        async def press(person: Person, process: int, button: bool) -> bool | None:
            """Through the desk: whether the claim won; by the button: not said (a notice)."""
            if button:
                payload = volunteer_payload("claim", str(request.id))
                await self.volunteer_event(person, process, payload=payload)
                return None
            return (await self.processes[process].desk.claim(person.telegram, request.id)).ok

        won = self.run(at_once(*(press(p, *way) for p, way in zip(people, ways, strict=False))))
        handoff = self.run(self.handoffs())[request.id]
        could = request.status == "open" and any(p.active for p in people)
        if not could:
            assert (handoff.status, handoff.volunteer_id) == (was.status, was.volunteer_id)
            assert not any(won), "a claim was accepted that should not have been"
            return
        assert handoff.status == "claimed", handoff.status
        winners = [p for p in people if p.id == handoff.volunteer_id]
        assert len(winners) == 1 and winners[0].active, "the winner is not one who pressed"
        for person, ok in zip(people, won, strict=False):
            assert ok in (None, person is winners[0]), "a volunteer was told the wrong outcome"
        told = self.run(self.rows_to(learner_chat(number), before))
        assert len(told) == 1, f"the learner was told {len(told)} times who will help"
        request.status, request.holder = "claimed", handoff.volunteer_id

    @rule(
        which=st.integers(0, 30),
        stranger=st.integers(0, 30),
        holder_writes=st.booleans(),
        process=st.integers(0, 1),
        way=st.sampled_from(["desk", "reply", "plain"]),
    )
    def volunteer_writes(
        self, which: int, stranger: int, holder_writes: bool, process: int, way: str
    ) -> None:
        """A volunteer writes: through the desk, with /reply and the number, or without
        replying to anything (it goes to their one request; with several, they are asked).
        Only the one who holds the request reaches the learner."""
        requests = self.requests()
        if not requests:
            return
        request_id = requests[which % len(requests)]
        number, request = self.learner_of(request_id)
        person = self.model.people[stranger % len(self.model.people)]
        if holder_writes and request.holder:
            person = self.person(request.holder)
        token = self.token()
        theirs = [r.id for _, r in self.held() if r.holder == person.id and person.active]
        to = number
        if way == "desk":
            ok = self.run(self.processes[process].desk.reply(person.telegram, request_id, token))
            assert ok.ok == (request_id in theirs)
            reaches = request_id in theirs
        elif way == "reply":
            argument = f"{request_id} {token}"
            self.run(
                self.volunteer_event(
                    person, process, command="reply", text=f"/reply {argument}", argument=argument
                )
            )
            reaches = request_id in theirs
        else:
            self.run(self.volunteer_event(person, process, text=f"Hi {token}"))
            reaches = len(theirs) == 1
            if reaches:
                to = self.learner_of(theirs[0])[0]
        for n in self.model.requests:
            self.model.sent.append(Sent.exactly(token, learner_chat(n), int(reaches and n == to)))

    @rule(
        which=st.integers(0, 30),
        stranger=st.integers(0, 30),
        holder_closes=st.booleans(),
        process=st.integers(0, 1),
        outcome=st.sampled_from(sorted(OUTCOMES)),
    )
    def volunteer_closes(
        self, which: int, stranger: int, holder_closes: bool, process: int, outcome: str
    ) -> None:
        held = self.held()
        if not held:
            return
        _, request = held[which % len(held)]
        assert request.holder is not None
        holder = self.person(request.holder)
        closing = holder if holder_closes else self.model.people[stranger % len(self.model.people)]
        ok = self.run(self.processes[process].desk.close(closing.telegram, request.id, outcome)).ok
        assert ok == (closing is holder)
        handoff = self.run(self.handoffs())[request.id]
        if ok:
            assert (handoff.status, handoff.outcome) == ("closed", outcome)
            request.status, request.holder = "rating", None
        else:
            assert handoff.status == "claimed"

    @rule(which=st.integers(0, 30), process=st.integers(0, 1), holder=st.booleans())
    def admin_removes_a_volunteer(self, which: int, process: int, holder: bool) -> None:
        """``coach volunteer remove``: they get nothing more; what they held is open again."""
        active = [p for p in self.model.people if p.active]
        holding = [self.person(r.holder) for _, r in self.held() if r.holder]
        choices = holding if holder and holding else active
        person = choices[which % len(choices)]
        their = [(n, r) for n, r in self.held() if r.holder == person.id]
        before = self.run(self.last_id())
        on = self.processes[process]
        assert self.run(on.volunteers.remove(person.id))
        assert self.run(on.desk.volunteer_removed(person.id)) == len(their)
        person.active = False
        handoffs = self.run(self.handoffs())
        for number, request in their:
            assert handoffs[request.id].status == "open"
            assert handoffs[request.id].volunteer_id is None
            assert self.run(self.rows_to(learner_chat(number), before)), "learner not told"
            request.status, request.holder = "open", None
        self.run(self.enough_volunteers())

    async def enough_volunteers(self) -> None:
        if sum(p.active for p in self.model.people) < 2:
            await self.invite([])

    # --- several people at once

    @rule(
        who=st.integers(0, LEARNERS - 1),
        learner_does=st.sampled_from(["cancel", "write", "ask"]),
        volunteer_does=st.sampled_from(["claim", "write", "close", "nothing"]),
        admin_removes=st.sampled_from(["holder", "claimer", "nobody"]),
        claimer=st.integers(0, 30),
        processes=st.lists(st.integers(0, 1), min_size=3, max_size=3),
    )
    def everyone_at_once(
        self,
        who: int,
        learner_does: str,
        volunteer_does: str,
        admin_removes: str,
        claimer: int,
        processes: list[int],
    ) -> None:
        """A learner, a volunteer and an admin act at the same moment, each in either
        process; whatever order the database gives them, the invariants hold."""
        number = self.pick(who, "open", "claimed")
        if number is None:
            return
        request = self.model.requests[number]
        assert request is not None
        active = [p for p in self.model.people if p.active]
        holder = self.person(request.holder) if request.holder else None
        volunteer = active[claimer % len(active)]
        if holder is not None and volunteer_does != "claim":
            volunteer = holder
        removed = {"holder": holder, "claimer": volunteer, "nobody": None}[admin_removes]
        token, words = self.token(), self.token()
        before, since = self.run(self.last_id()), self.run(self.last_event())

        async def learner_acts() -> None:
            if learner_does == "cancel":
                await self.learner(number, processes[0], command="cancel")
            elif learner_does == "write":
                await self.learner(number, processes[0], text_=f"Hello {token}")
            else:
                await self.learner(number, processes[0], command="help")

        async def volunteer_acts() -> None:
            desk = self.processes[processes[1]].desk
            if volunteer_does == "claim":
                await desk.claim(volunteer.telegram, request.id)
            elif volunteer_does == "write":
                await desk.reply(volunteer.telegram, request.id, words)
            elif volunteer_does == "close":
                await desk.close(volunteer.telegram, request.id, "chat")

        async def admin_acts() -> None:
            if removed is not None:
                on = self.processes[processes[2]]
                assert await on.volunteers.remove(removed.id)
                await on.desk.volunteer_removed(removed.id)

        self.run(at_once(learner_acts(), volunteer_acts(), admin_acts()))
        if removed is not None:
            removed.active = False
        if learner_does == "ask" and self.run(self.live(number, "intake")):
            self.run(self.learner(number, processes[0], command="cancel"))  # asked after close
        handoff = self.run(self.handoffs())[request.id]
        for n in self.model.requests:
            self.model.requests[n] = self.run(self.as_stored(n))
        chats = tuple(p.telegram for p in self.model.people)
        self.model.sent.append(Sent(token, chats, 0, 1))
        self.model.sent.append(Sent(words, (learner_chat(number),), 0, 1))
        others = tuple(learner_chat(n) for n in self.model.requests if n != number)
        self.model.sent.append(Sent(words, others, 0, 0))
        if handoff.status == "cancelled" and learner_does == "cancel":
            claims = [e for e in self.run(self.events("handoff_claimed")) if e.id > since]
            helped = {holder.id} if holder else set()
            helped |= {e.data["volunteer"] for e in claims if e.data["handoff"] == request.id}
            for person in self.model.people:
                if person.id in helped and person is not removed:  # a removed one is done
                    told = self.run(self.rows_to(person.telegram, before))
                    assert told, "a volunteer who took a cancelled request was not told"
        self.run(self.enough_volunteers())

    # --- the clock

    @rule(
        minutes=st.sampled_from([1, 29, 31, 60 * 5, 60 * 11, 60 * 24]),
        both=st.booleans(),
        process=st.integers(0, 1),
    )
    def time_passes_and_the_desk_sweeps(self, minutes: int, both: bool, process: int) -> None:
        """The scheduler's hand-off job runs, in one process or in both at once."""
        self.clock.now += timedelta(minutes=minutes)
        now = self.clock.now
        handoffs = self.run(self.handoffs()).values()
        open_ = [h for h in handoffs if h.status == "open"]
        escalating = [h for h in open_ if h.escalate_at is not None and h.escalate_at <= now]
        ending = [h for h in open_ if h.day_ends_at is not None and h.day_ends_at <= now]
        escalated_before = len(self.run(self.events("handoff_escalated")))
        day_ends_before = len(self.run(self.events("handoff_day_end")))
        which = [0, 1] if both else [process]
        self.run(at_once(*(sweep(self.processes[p].desk, self.clock) for p in which)))
        self.model.swept_at = now
        escalated = len(self.run(self.events("handoff_escalated"))) - escalated_before
        assert escalated == len(escalating), f"{escalated} escalations for {len(escalating)}"
        day_ends = len(self.run(self.events("handoff_day_end"))) - day_ends_before
        assert day_ends == len(ending), f"{day_ends} day-end notices for {len(ending)}"

    @rule(process=st.integers(0, 1))
    def a_process_restarts(self, process: int) -> None:
        self.run(self.processes[process].engine.dispose())
        self.processes[process] = Process.start(self.url, self.clock)

    # --- after every step

    @invariant()
    def telegram_messages_are_sent(self) -> None:
        self.run(self.delivered())

    @invariant()
    def the_database_holds_what_the_model_expects(self) -> None:
        handoffs = self.run(self.handoffs())
        for number, request in self.model.requests.items():
            live = [
                h
                for h in handoffs.values()
                if h.learner_id == self.learner_ids[number] and h.status in ACTIVE
            ]
            assert len(live) <= 1, f"learner {number} has several live requests"
            if request is None or request.status in ("rating", "comment"):
                assert not live, (number, request, live[0].status)
                continue
            assert live and live[0].id == request.id, (number, request)
            assert live[0].status == request.status, (number, request, live[0].status)
            assert live[0].volunteer_id == request.holder, (number, request)

    @invariant()
    def at_most_one_volunteer_holds_a_request(self) -> None:
        handoffs = self.run(self.handoffs())
        people = {p.id: p for p in self.model.people}
        for handoff in handoffs.values():
            if handoff.status == "claimed":
                assert handoff.volunteer_id is not None
                assert people[handoff.volunteer_id].active, "a removed volunteer holds a request"
            elif handoff.status == "open":
                assert handoff.volunteer_id is None
        winners: dict[int, int] = {}
        for event in self.run(self.events_of("handoff_claimed", "handoff_requeued")):
            request = event.data["handoff"]
            if event.name == "handoff_requeued":
                winners[request] = 0
            else:
                winners[request] = winners.get(request, 0) + 1
                assert winners[request] == 1, f"request {request} claimed twice"

    async def last_event(self) -> int:
        async with self.observer.connect() as connection:
            return int(await connection.scalar(select(func.max(EventRow.id))) or 0)

    async def events_of(self, *names: str) -> list[EventRow]:
        async with self.observer.connect() as connection:
            rows = await connection.execute(
                select(EventRow).where(EventRow.name.in_(names)).order_by(EventRow.id)
            )
            return [EventRow(**row._mapping) for row in rows]

    @invariant()
    def every_message_arrived_exactly_once(self) -> None:
        rows = self.run(self.outbox())
        for sent in self.model.sent:
            word = re.compile(rf"\b{sent.token}\b")
            got = sum(bool(word.search(row.text)) for row in rows if row.chat_id in sent.chats)
            assert sent.least <= got <= sent.most, f"{sent.token} reached {sent.chats} {got} times"

    @invariant()
    def a_learner_always_has_a_way_out(self) -> None:
        rows = self.run(self.outbox())
        handoffs = self.run(self.handoffs())
        for number, request in self.model.requests.items():
            last = [row for row in rows if row.chat_id == learner_chat(number)][-1]
            live = request is not None and request.status in ACTIVE
            assert last.buttons or live or self._menu_offered(number), (
                f"learner {number} was left with {last.text!r} and no way out "
                f"({request}, {[h.status for h in handoffs.values()]})"
            )

    def _menu_offered(self, number: int) -> bool:
        async def choices() -> list[str]:
            async with self.observer.connect() as connection:
                found = await connection.scalar(
                    select(Learner.choices).where(Learner.id == self.learner_ids[number])
                )
            return list(found or [])

        return payloads.MENU in self.run(choices())

    @invariant()
    def no_sweep_left_a_due_request_behind(self) -> None:
        swept = self.model.swept_at
        if swept is None:
            return
        for handoff in self.run(self.handoffs()).values():
            if handoff.status != "open":
                continue
            late = [t for t in (handoff.escalate_at, handoff.day_ends_at) if t and t <= swept]
            assert not late, f"request {handoff.id} was due at {late} and the sweep left it"


def _machine(url: str) -> type[TwoCoachProcesses]:
    return type("HandoffDeskOn", (TwoCoachProcesses,), {"url": url})


MODEL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# 25 runs of 25 steps, two coach processes each: about a minute alone on two cores, several
# when the machine is busy; it gets more than the suite's two minutes, still bounded.
@pytest.mark.timeout(600)
def test_the_desk_holds_under_random_interleavings(database_url: str) -> None:
    if database_url.startswith("sqlite"):

        async def migrate() -> None:
            engine = create_engine(database_url)
            await upgrade(engine)
            await engine.dispose()

        asyncio.run(migrate())
    run_state_machine_as_test(lambda: _machine(database_url)(), settings=MODEL_SETTINGS)

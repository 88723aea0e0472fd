"""The desk as volunteers see it in a browser: the queue, one conversation, and, for
coordinators, every request with its times and rating. Actions go through the same desk as
Telegram's, so one claim wins whichever side it comes from. Plain data out, never rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.core.text import Msg, Text
from bot.core.volunteering import ONLY_CLOSE, ONLY_WRITE, OUTCOMES
from bot.services.coach import exactly_once
from bot.services.desk_sign_in import DeskVolunteer
from bot.services.handoffs import HandoffDesk
from bot.store.tables import Handoff, HandoffMessage, Learner, Volunteer
from bot.store.unit_of_work import UnitOfWork

# A channel's way to fetch a learner's photo or voice note by its reference, within a size.
MediaSource = Callable[[str, int], Awaitable[bytes | None]]
DESK = "desk"
SHOWN = ("photo", "voice")
MAX_WRITTEN = 2000
OVERVIEW_ROWS = 200


@dataclass(frozen=True)
class Card:
    """A request as a volunteer may see it: no phone, username or chat id, ever."""

    id: int
    status: str
    details: tuple[Text, ...]
    waiting_since: datetime
    mine: bool


@dataclass(frozen=True)
class Said:
    id: int
    author: str  # "learner", "volunteer" or "coach"
    text: str | None
    media_kind: str | None
    at: datetime
    fetchable: bool = False  # a photo or voice note the desk can show


@dataclass(frozen=True)
class Conversation:
    card: Card
    messages: tuple[Said, ...]
    open: bool  # the volunteer still holds it: they may write and close


@dataclass(frozen=True)
class OverviewLine:
    id: int
    status: str
    topic: str
    language: str
    volunteer: str | None
    asked: datetime
    to_claim: timedelta | None
    to_close: timedelta | None
    outcome: str | None
    rating: int | None


class WebDesk:
    def __init__(self, desk: HandoffDesk) -> None:
        self.desk = desk

    async def queue(self, who: DeskVolunteer) -> tuple[list[Card], list[Card]]:
        """The open requests they may take (all of them for a coordinator), and theirs."""
        async with self.desk.store.unit_of_work() as uow:
            volunteer = await self._volunteer(uow, who)
            if volunteer is None:
                return [], []
            rows = await uow.session.scalars(
                select(Handoff)
                .where(
                    or_(
                        Handoff.status == "open",
                        (Handoff.status == "claimed") & (Handoff.volunteer_id == volunteer.id),
                    )
                )
                .order_by(Handoff.id)
            )
            waiting, mine = [], []
            for row in list(rows):
                if row.status == "claimed":
                    mine.append(await self._card(uow, row, volunteer))
                elif who.coordinator or self.desk._matches(volunteer, row):
                    waiting.append(await self._card(uow, row, volunteer))
            return waiting, mine

    async def conversation(
        self, who: DeskVolunteer, handoff_id: int, after: int = 0
    ) -> Conversation | None:
        """A request they hold or held, with its messages after ``after``; None otherwise."""
        async with self.desk.store.unit_of_work() as uow:
            volunteer = await self._volunteer(uow, who)
            row = await uow.session.get(Handoff, handoff_id)
            if volunteer is None or row is None or row.volunteer_id != volunteer.id:
                return None
            messages = await uow.session.scalars(
                select(HandoffMessage)
                .where(HandoffMessage.handoff_id == handoff_id, HandoffMessage.id > after)
                .order_by(HandoffMessage.id)
            )
            said = tuple(
                Said(
                    m.id,
                    m.author,
                    m.text,
                    m.media_kind,
                    m.created_at,
                    m.media_ref is not None and m.media_kind in SHOWN,
                )
                for m in messages
            )
            card = await self._card(uow, row, volunteer)
            return Conversation(card, said, row.status == "claimed")

    async def media(
        self, who: DeskVolunteer, message_id: int
    ) -> tuple[str, str, str, bytes | None] | None:
        """A learner's photo or voice note in a conversation the volunteer holds or held: its
        kind, the learner's channel, the channel's reference to fetch it by, and the file
        itself where the coach keeps it (the web chat)."""
        async with self.desk.store.unit_of_work() as uow:
            volunteer = await self._volunteer(uow, who)
            found = await uow.session.execute(
                select(
                    HandoffMessage.media_kind,
                    HandoffMessage.media_ref,
                    HandoffMessage.media_data,
                    Learner.channel,
                )
                .join(Handoff, Handoff.id == HandoffMessage.handoff_id)
                .join(Learner, Learner.id == Handoff.learner_id)
                .where(HandoffMessage.id == message_id, HandoffMessage.author == "learner")
                .where(Handoff.volunteer_id == (volunteer.id if volunteer else None))
            )
            row = found.first()
            if row is None or row.media_kind is None or row.media_ref is None:
                return None
            data = row.media_data
            return str(row.media_kind), str(row.channel), str(row.media_ref), data

    async def claim(self, who: DeskVolunteer, handoff_id: int, nonce: str) -> Msg | None:
        """Take a request; a refusal says why. One winner with Telegram's claims too."""
        return await self._act(
            who,
            nonce,
            lambda uow, v, now: self.desk.claim_in(uow, v, handoff_id, now, channel=DESK),
        )

    async def write(self, who: DeskVolunteer, handoff_id: int, text: str, nonce: str) -> Msg | None:
        text = text.strip()[:MAX_WRITTEN]
        if not text:
            return None
        return await self._act(
            who,
            nonce,
            lambda uow, v, now: self._write(uow, v, handoff_id, text, now),
        )

    async def close(
        self, who: DeskVolunteer, handoff_id: int, outcome: str, note: str, nonce: str
    ) -> Msg | None:
        if outcome not in OUTCOMES:
            return ONLY_CLOSE

        async def close(uow: UnitOfWork, volunteer: Volunteer, now: datetime) -> Msg | None:
            refused = await self.desk.close_in(uow, volunteer, handoff_id, outcome, now)
            if refused is None and note.strip():
                await self.desk.note_in(uow, volunteer, handoff_id, note.strip())
            return refused

        return await self._act(who, nonce, close)

    async def overview(self, who: DeskVolunteer) -> list[OverviewLine]:
        """For coordinators: the latest requests, times to claim and close, outcome, rating."""
        if not who.coordinator:
            return []
        async with self.desk.store.unit_of_work() as uow:
            rows = await uow.session.execute(
                select(Handoff, Volunteer.name)
                .outerjoin(Volunteer, Volunteer.id == Handoff.volunteer_id)
                .where(Handoff.status != "intake")
                .order_by(Handoff.id.desc())
                .limit(OVERVIEW_ROWS)
            )
            lines = []
            for row, name in rows:
                start = row.opened_at or row.created_at
                closed = row.closed_at if row.status == "closed" else None
                lines.append(
                    OverviewLine(
                        row.id,
                        row.status,
                        row.topic or "other",
                        row.language,
                        name,
                        row.created_at,
                        row.claimed_at - start if row.claimed_at else None,
                        closed - start if closed else None,
                        row.outcome,
                        row.rating,
                    )
                )
            return lines

    # --- inside

    async def _write(
        self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int, text: str, now: datetime
    ) -> Msg | None:
        refused = await self.desk.reply_in(uow, volunteer, handoff_id, text, now)
        return ONLY_WRITE if refused is not None else None

    async def _act(
        self,
        who: DeskVolunteer,
        nonce: str,
        act: Callable[[UnitOfWork, Volunteer, datetime], Awaitable[Msg | None]],
    ) -> Msg | None:
        """One desk action in one transaction; the page's ``nonce`` makes a form sent twice
        (a double click, a retry after a lost answer) act once. A refusal changes nothing."""
        key = f"desk:{who.id}:{nonce[:64]}"

        async def once() -> Msg | None:
            now = self.desk.clock()
            try:
                async with self.desk.store.unit_of_work() as uow:
                    if await uow.inbound_seen(key):
                        return None
                    volunteer = await self._volunteer(uow, who)
                    if volunteer is None:
                        return ONLY_WRITE
                    await uow.remember_inbound(key, None, now)
                    refused = await act(uow, volunteer, now)
                    if refused is not None:
                        raise _Refused(refused)  # rolls the transaction back
            except _Refused as refusal:
                return refusal.say
            return None

        refused = await exactly_once(key, once)
        if refused is None:
            self.desk._notify()
        return refused

    @staticmethod
    async def _volunteer(uow: UnitOfWork, who: DeskVolunteer) -> Volunteer | None:
        row = await uow.session.get(Volunteer, who.id)
        return row if row is not None and row.active else None

    async def _card(self, uow: UnitOfWork, row: Handoff, volunteer: Volunteer) -> Card:
        learner = await uow.session.get(Learner, row.learner_id)
        assert learner is not None
        details = tuple(self.desk._details(row, learner))
        since = row.opened_at or row.created_at
        return Card(row.id, row.status, details, since, row.volunteer_id == volunteer.id)


class _Refused(Exception):
    def __init__(self, say: Msg) -> None:
        super().__init__()
        self.say = say

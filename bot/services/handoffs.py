"""The hand-off desk: alerts, claims, relays and closing, with every volunteer action
checked on the server. Learners are never shown to volunteers by number, username or id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.core.channel import Capabilities
from bot.core.effects import Choice, HandoffAction, Reply
from bot.core.handoff import rating_question, relay_choices
from bot.core.rules import Rules
from bot.core.state import HelpRequest, RequestStatus
from bot.core.text import N_, Msg, Verbatim
from bot.core.volunteering import OUTCOMES
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.desk_messages import VOLUNTEER_CHANNEL
from bot.services.desk_upkeep import DeskUpkeep
from bot.store.requests import IN_LESSONS
from bot.store.tables import Handoff, Learner, Volunteer
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
__all__ = ["VOLUNTEER_CHANNEL", "DeskResult", "HandoffDesk"]


def relay_buttons(handoff: Handoff, volunteer: Volunteer) -> tuple[Choice, ...]:
    """Under a volunteer's words: the learner's way back to the lessons, or to the talk."""
    if handoff.status != "claimed":
        return ()
    in_lessons = handoff.step == IN_LESSONS
    request = HelpRequest(
        RequestStatus.CLAIMED, handoff.id, volunteer=volunteer.name, in_lessons=in_lessons
    )
    return relay_choices(request)


def wrote(name: str, text: str) -> Msg:
    """A volunteer's words, as the learner sees them."""
    return N_("💬 {name}: {text}", name=name, text=Verbatim(text))


async def active_volunteer(uow: UnitOfWork, telegram_user_id: str) -> Volunteer | None:
    return (await active_volunteers(uow, [telegram_user_id])).get(telegram_user_id)


async def active_volunteers(
    uow: UnitOfWork, telegram_user_ids: Collection[str]
) -> dict[str, Volunteer]:
    """The active volunteers among these Telegram users, by user id: one query."""
    found = await uow.session.scalars(
        select(Volunteer).where(
            Volunteer.telegram_user_id.in_(telegram_user_ids), Volunteer.active.is_(True)
        )
    )
    return {row.telegram_user_id: row for row in found if row.telegram_user_id is not None}


@dataclass(frozen=True)
class DeskResult:
    """The answer to a volunteer's action: done, or refused with the reason to show."""

    ok: bool
    say: Msg | None = None


@dataclass
class HandoffDesk(DeskUpkeep):
    store: Store
    courses: CourseHolder
    catalogs: Catalogs
    rules: Rules
    channels: Mapping[str, Capabilities]
    clock: Callable[[], datetime]
    coordinators: tuple[str, ...] = ()
    volunteers_group: str | None = None
    escalate_after: timedelta = timedelta(minutes=30)
    default_language: str = "en"
    on_outbox: Callable[[], None] | None = None

    # --- what the learner's side asks for, inside the learner's transaction

    async def apply(
        self,
        uow: UnitOfWork,
        action: HandoffAction,
        handoff_id: int | None,
        learner: Learner,
        now: datetime,
    ) -> None:
        if handoff_id is None:
            return
        handoff = await uow.session.get(Handoff, handoff_id)
        if handoff is None:
            return
        aid = await self._record(uow, handoff, f"learner_{action.kind}", now)
        if action.kind in ("open", "update"):
            handoff.escalate_at = now + self.escalate_after
            handoff.day_ends_at = self._day_end(learner, now)
            await self._alert(
                uow, handoff, learner, now, aid, everyone=False, updated=action.kind == "update"
            )
        elif action.kind == "cancel":
            cancelled = N_("Request #{id} was cancelled by the learner.", id=handoff.id)
            await self._edit_alerts(uow, handoff, cancelled, now, aid)
            await self._tell_volunteer(uow, handoff, cancelled, now, aid)
        elif action.kind == "relay":
            await self._relay_to_volunteer(uow, handoff, learner, action, now, aid)
        elif action.kind == "rate":
            handoff.rating = action.rating
        elif action.kind == "comment":
            handoff.comment = action.text

    async def learner_gone(
        self, uow: UnitOfWork, handoff: Handoff, said: Msg, now: datetime
    ) -> None:
        """The learner had everything erased: the alerts and the volunteer say it ended."""
        aid = await self._record(uow, handoff, "learner_erased", now)
        await self._edit_alerts(uow, handoff, said, now, aid)
        await self._tell_volunteer(uow, handoff, said, now, aid)

    # --- volunteers' actions, inside the volunteer event's transaction; a refusal is returned

    async def claim_in(
        self,
        uow: UnitOfWork,
        volunteer: Volunteer,
        handoff_id: int,
        now: datetime,
        channel: str = VOLUNTEER_CHANNEL,
    ) -> Msg | None:
        """Exactly one volunteer wins, even when several press at once in several processes
        (in Telegram or in the browser: ``channel`` is where they will work on it)."""
        if not await self._lock_for(uow, handoff_id, volunteer):
            return N_("Only registered volunteers can take a request.")
        won = await uow.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "open")
            .values(
                status="claimed",
                step=None,  # a requeued request starts its new talk in the conversation
                volunteer_id=volunteer.id,
                volunteer_channel=channel,
                claimed_at=now,
                escalate_at=None,
                day_ends_at=None,
            )
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            log.info("claim of hand-off %d by volunteer %d refused", handoff_id, volunteer.id)
            return await self._not_claimed(uow, volunteer, handoff_id)
        handoff = await uow.session.get(Handoff, handoff_id)
        learner = await uow.session.get(Learner, handoff.learner_id) if handoff else None
        assert handoff is not None and learner is not None
        aid = await self._record(uow, handoff, "claimed", now, volunteer.id)
        taken = N_("Request #{id}: taken by {name}.", id=handoff.id, name=volunteer.name)
        await self._edit_alerts(uow, handoff, taken, now, aid)
        helping = N_(
            "You are helping with request #{id}. "
            "Reply to the learner's messages to answer them, "
            "or send /reply {id} and your text. When you are done, send /done {id}.",
            id=handoff.id,
        )
        if channel == VOLUNTEER_CHANNEL:
            await self._to_volunteer(uow, volunteer, handoff, now, aid, "claimed", helping)
        where = self._where(handoff)
        said = N_("{name} will help you. {where}", name=volunteer.name, where=where)
        await self._to_learner(
            uow,
            learner,
            handoff,
            now,
            aid,
            "claimed",
            Reply((said,), relay_buttons(handoff, volunteer)),
        )
        log.info("hand-off %d claimed by volunteer %d", handoff_id, volunteer.id)
        return None

    async def reply_in(
        self,
        uow: UnitOfWork,
        volunteer: Volunteer,
        handoff_id: int,
        text: str | None,
        now: datetime,
        media: dict[str, str] | None = None,
    ) -> Msg | None:
        """A volunteer writes ``text`` to the learner of a request they hold, or sends
        ``media``: a copy of one of their own Telegram messages, for a learner on Telegram."""
        handoff = await self._held(uow, volunteer, handoff_id)
        if handoff is None:
            return N_("You can only write to learners whose request you took.")
        learner = await uow.session.get(Learner, handoff.learner_id)
        assert learner is not None
        if learner.chat_id != learner.user_id:  # a request from before groups went private
            return N_("This learner asked in a group: they can only be answered in private.")
        if media is not None and learner.channel != VOLUNTEER_CHANNEL:
            return N_("This learner can only receive text: please write it.")
        aid = await self._record(uow, handoff, "replied", now, volunteer.id)
        key = f"handoff:{handoff.id}:reply:{aid}"
        if text is not None:
            said: Msg = wrote(volunteer.name, text)
            await self._keep(uow, handoff, key, "volunteer", now, volunteer.id, text=text)
        else:
            said = N_("💬 {name} sent you the message above.", name=volunteer.name)
            await self._keep(uow, handoff, key, "volunteer", now, volunteer.id, media_kind="copy")
        reply = Reply((said,), relay_buttons(handoff, volunteer))
        await self._to_learner(uow, learner, handoff, now, aid, "reply", reply, media)
        return None

    async def close_in(
        self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int, outcome: str, now: datetime
    ) -> Msg | None:
        """The volunteer closes with an outcome; the learner is asked for a rating."""
        await self._lock_for(uow, handoff_id, volunteer)
        handoff = await self._held(uow, volunteer, handoff_id)
        if handoff is None:
            return N_("You can only close requests you took.")
        handoff.status, handoff.outcome, handoff.closed_at = "closed", outcome, now
        handoff.step = "rating"
        learner = await uow.session.get(Learner, handoff.learner_id)
        assert learner is not None
        question = rating_question()
        aid = await self._record(uow, handoff, "closed", now, volunteer.id)
        learner.handoff_open = False
        learner.choices = [choice.payload for choice in question.choices]
        learner.version += 1
        await self._to_learner(uow, learner, handoff, now, aid, "rating", question)
        note = N_(
            "Request #{id} is closed. Thank you! To add a note, reply to this message.",
            id=handoff.id,
        )
        if handoff.volunteer_channel != "desk":
            await self._to_volunteer(
                uow, volunteer, handoff, now, aid, "closed", note, tag=f"note:{handoff.id}"
            )
        return None

    async def note_in(
        self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int, text: str
    ) -> Msg:
        handoff = await uow.session.get(Handoff, handoff_id)
        if handoff is None or handoff.volunteer_id != volunteer.id:
            return N_("You can only close requests you took.")
        handoff.note = text[:2000]
        return N_("Note saved.")

    # --- the same, each in a transaction of its own (the coordinators' tools and tests)

    async def claim(self, telegram_user_id: str, handoff_id: int) -> DeskResult:
        return await self._as(
            telegram_user_id, lambda uow, v, now: self.claim_in(uow, v, handoff_id, now)
        )

    async def reply(self, telegram_user_id: str, handoff_id: int, text: str) -> DeskResult:
        return await self._as(
            telegram_user_id,
            lambda uow, v, now: self.reply_in(uow, v, handoff_id, text, now),
        )

    async def close(self, telegram_user_id: str, handoff_id: int, outcome: str) -> DeskResult:
        if outcome not in OUTCOMES:
            return DeskResult(False, N_("This button does not work any more."))
        return await self._as(
            telegram_user_id, lambda uow, v, now: self.close_in(uow, v, handoff_id, outcome, now)
        )

    async def note(self, telegram_user_id: str, handoff_id: int, text: str) -> DeskResult:
        async with self.store.unit_of_work() as uow:
            volunteer = await active_volunteer(uow, telegram_user_id)
            if volunteer is None:
                return DeskResult(False, N_("You can only close requests you took."))
            said = await self.note_in(uow, volunteer, handoff_id, text)
        return DeskResult(said == N_("Note saved."), said)

    async def _as(
        self,
        telegram_user_id: str,
        act: Callable[[UnitOfWork, Volunteer, datetime], Awaitable[Msg | None]],
    ) -> DeskResult:
        async with self.store.unit_of_work() as uow:
            volunteer = await active_volunteer(uow, telegram_user_id)
            if volunteer is None:
                return DeskResult(False, N_("Only registered volunteers can take a request."))
            refused = await act(uow, volunteer, self.clock())
            if refused is not None:
                return DeskResult(False, refused)
        self._notify()
        return DeskResult(True)

    # --- the clock's side

    async def _lock_for(self, uow: UnitOfWork, handoff_id: int, volunteer: Volunteer) -> bool:
        """On PostgreSQL, lock the request's learner first, as their own events do (so the
        two never wait on each other in a circle), then hold the volunteer as they are: a
        volunteer removed meanwhile takes nothing. Whether the volunteer is still active."""
        if not uow.postgres:
            return True
        learner_id = await uow.session.scalar(
            select(Handoff.learner_id).where(Handoff.id == handoff_id)
        )
        if learner_id is not None:
            await uow.session.execute(
                select(Learner.id).where(Learner.id == learner_id).with_for_update()
            )
        active = await uow.session.scalar(
            select(Volunteer.active).where(Volunteer.id == volunteer.id).with_for_update(read=True)
        )
        return bool(active)

    async def _not_claimed(self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int) -> Msg:
        """Why a claim lost, in words that fit what happened."""
        handoff = await uow.session.get(Handoff, handoff_id, populate_existing=True)
        if handoff is None:
            return N_("This request does not exist.")
        if handoff.status == "claimed" and handoff.volunteer_id == volunteer.id:
            return N_("You have already taken this request.")
        if handoff.status == "claimed":
            return N_("Someone else has already taken this request.")
        if handoff.status == "cancelled":
            return N_("The learner cancelled this request.")
        if handoff.status == "closed":
            return N_("This request is already closed.")
        return N_("This request cannot be taken now.")

    async def _held(self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int) -> Handoff | None:
        handoff = await uow.session.get(Handoff, handoff_id)
        if handoff is None or handoff.status != "claimed" or handoff.volunteer_id != volunteer.id:
            log.warning("volunteer action on hand-off %d refused", handoff_id)
            return None
        return handoff

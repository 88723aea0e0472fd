"""The hand-off desk: alerts, claims, relays and closing, with every volunteer action
checked on the server. Learners are never shown to volunteers by number, username or id.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core.channel import Capabilities, Destination
from bot.core.effects import Choice, HandoffAction, Reply
from bot.core.handoff import BY_CHAT, TOPICS, rating_question
from bot.core.menus import lesson_title
from bot.core.rules import Rules
from bot.core.text import N_, DropIns, LocalDateTime, Msg, Text, Verbatim
from bot.core.volunteering import OUTCOMES, volunteer_payload
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.rendering import Renderer
from bot.store.tables import Handoff, Learner, OutboxRow, Volunteer
from bot.store.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)
VOLUNTEER_CHANNEL = "telegram"


def wrote(name: str, text: str) -> Msg:
    """A volunteer's words, as the learner sees them."""
    return N_("💬 {name}: {text}", name=name, text=Verbatim(text))


async def active_volunteer(uow: UnitOfWork, telegram_user_id: str) -> Volunteer | None:
    return await uow.session.scalar(
        select(Volunteer).where(
            Volunteer.telegram_user_id == telegram_user_id, Volunteer.active.is_(True)
        )
    )


@dataclass(frozen=True)
class DeskResult:
    """The answer to a volunteer's action: done, or refused with the reason to show."""

    ok: bool
    say: Msg | None = None


@dataclass
class HandoffDesk:
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

    # --- volunteers' actions, inside the volunteer event's transaction; a refusal is returned

    async def claim_in(
        self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int, now: datetime
    ) -> Msg | None:
        """Exactly one volunteer wins, even when several press at once in several processes."""
        won = await uow.session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id, Handoff.status == "open")
            .values(
                status="claimed",
                volunteer_id=volunteer.id,
                claimed_at=now,
                escalate_at=None,
                day_ends_at=None,
            )
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            log.info(
                "claim of hand-off %d by volunteer %d: already taken", handoff_id, volunteer.id
            )
            return N_("Someone else has already taken this request.")
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
        await self._to_volunteer(uow, volunteer, handoff, now, aid, "claimed", helping)
        where = self._where(handoff)
        said = N_("{name} will help you. {where}", name=volunteer.name, where=where)
        await self._to_learner(uow, learner, handoff, now, aid, "claimed", said)
        log.info("hand-off %d claimed by volunteer %d", handoff_id, volunteer.id)
        return None

    async def reply_in(
        self,
        uow: UnitOfWork,
        volunteer: Volunteer,
        handoff_id: int,
        said: Msg | Reply,
        now: datetime,
        media: dict[str, str] | None = None,
    ) -> Msg | None:
        """A volunteer writes to the learner of a request they hold (``media``: a copy of
        one of the volunteer's own Telegram messages, for a learner on Telegram)."""
        handoff = await self._held(uow, volunteer, handoff_id)
        if handoff is None:
            return N_("You can only write to learners whose request you took.")
        learner = await uow.session.get(Learner, handoff.learner_id)
        assert learner is not None
        if media is not None and learner.channel != VOLUNTEER_CHANNEL:
            return N_("This learner can only receive text: please write it.")
        aid = await self._record(uow, handoff, "replied", now, volunteer.id)
        await self._to_learner(uow, learner, handoff, now, aid, "reply", said, media)
        return None

    async def close_in(
        self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int, outcome: str, now: datetime
    ) -> Msg | None:
        """The volunteer closes with an outcome; the learner is asked for a rating."""
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
            lambda uow, v, now: self.reply_in(uow, v, handoff_id, wrote(v.name, text), now),
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

    async def sweep(self, now: datetime) -> int:
        """Alert everyone about requests nobody took in time; at the end of the day, tell
        the learner honestly and give the drop-in times."""
        done = 0
        async with self.store.unit_of_work() as uow:
            late = (
                select(Handoff)
                .where(Handoff.status == "open", Handoff.escalate_at <= now)
                .limit(100)
            )
            ending = (
                select(Handoff)
                .where(Handoff.status == "open", Handoff.day_ends_at <= now)
                .limit(100)
            )
            if uow.postgres:
                late, ending = (
                    late.with_for_update(skip_locked=True),
                    ending.with_for_update(skip_locked=True),
                )
            for handoff in list(await uow.session.scalars(late)):
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.escalate_at = None
                aid = await self._record(uow, handoff, "escalated", now)
                await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)
                done += 1
            for handoff in list(await uow.session.scalars(ending)):
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.day_ends_at = None
                aid = await self._record(uow, handoff, "day_end", now)
                await self._to_learner(uow, learner, handoff, now, aid, "day-end", self._sorry(now))
                done += 1
        if done:
            self._notify()
        return done

    async def volunteer_removed(self, volunteer_id: int) -> int:
        """Requests a removed volunteer held go back to the queue, and are alerted again."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            held = list(
                await uow.session.scalars(
                    select(Handoff).where(
                        Handoff.volunteer_id == volunteer_id, Handoff.status == "claimed"
                    )
                )
            )
            for handoff in held:
                handoff.status, handoff.volunteer_id, handoff.claimed_at = "open", None, None
                handoff.escalate_at = now + self.escalate_after
                learner = await uow.session.get(Learner, handoff.learner_id)
                assert learner is not None
                handoff.day_ends_at = self._day_end(learner, now)
                aid = await self._record(uow, handoff, "requeued", now, volunteer_id)
                await self._tell_learner_requeued(uow, learner, handoff, now, aid)
                await self._alert(uow, handoff, learner, now, aid, everyone=True, updated=False)
        self._notify()
        return len(held)

    async def learner_unreachable(self, channel: str, chat_id: str) -> None:
        """The learner blocked the coach: tell the volunteer on the way, close the request."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            learners = await uow.session.scalars(
                select(Learner.id).where(Learner.channel == channel, Learner.chat_id == chat_id)
            )
            ids = list(learners)
            rows = await uow.session.scalars(
                select(Handoff).where(
                    Handoff.learner_id.in_(ids), Handoff.status.in_(("open", "claimed"))
                )
            )
            for handoff in list(rows):
                said = N_(
                    "Request #{id}: the learner can no longer be reached (they blocked the coach). "
                    "No need to go.",
                    id=handoff.id,
                )
                aid = await self._record(uow, handoff, "unreachable", now)
                await self._tell_volunteer(uow, handoff, said, now, aid)
                await self._edit_alerts(uow, handoff, said, now, aid)
                handoff.status, handoff.closed_at, handoff.outcome = "cancelled", now, "unreachable"
        self._notify()

    # --- messages

    async def _alert(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        learner: Learner,
        now: datetime,
        aid: int,
        *,
        everyone: bool,
        updated: bool,
    ) -> None:
        query = select(Volunteer).where(
            Volunteer.active.is_(True),
            Volunteer.available.is_(True),
            Volunteer.telegram_user_id.is_not(None),
        )
        volunteers = list(await uow.session.scalars(query))
        if not everyone:
            volunteers = [v for v in volunteers if self._matches(v, handoff)]
        chats = {v.telegram_user_id: self._language_of(v) for v in volunteers if v.telegram_user_id}
        if everyone:
            chats.update({c: chats.get(c, self.default_language) for c in self.coordinators})
        if self.volunteers_group:
            chats.setdefault(self.volunteers_group, self.default_language)
        heading = N_("🙋 Request #{id}", id=handoff.id)
        if updated:
            heading = N_("🙋 Request #{id} (updated)", id=handoff.id)
        if everyone:
            heading = N_("⏰ Request #{id} is still waiting for someone", id=handoff.id)
        claim = Choice(N_("✋ I take it"), volunteer_payload("claim", str(handoff.id)))
        for chat_id, language in chats.items():
            assert chat_id is not None
            reply = Reply(
                (heading, *self._details(handoff, learner)), (claim,), tag=f"alert:{handoff.id}"
            )
            key = f"handoff:{handoff.id}:alert:{aid}:{chat_id}"
            await self._send(
                uow, VOLUNTEER_CHANNEL, chat_id, chat_id, None, language, reply, key, now
            )
        log.info("hand-off %d: %d alerts", handoff.id, len(chats))

    def _details(self, handoff: Handoff, learner: Learner) -> list[Text]:
        """What a volunteer needs, and nothing that identifies the learner."""
        topic: Text = TOPICS.get(handoff.topic or "other", TOPICS["other"])
        if handoff.topic_text:
            topic = Verbatim(handoff.topic_text)
        language = self.catalogs.languages.get(handoff.language)
        parts: list[Text] = [
            N_("Topic: {topic}", topic=topic),
            N_(
                "Language: {language}",
                language=Verbatim(language.name if language else handoff.language),
            ),
            self._where(handoff),
            N_("First name: {name}", name=Verbatim(learner.first_name))
            if handoff.share_name and learner.first_name
            else N_("First name: not shared"),
        ]
        if learner.current_lesson and (
            lesson := self.courses.course.lesson(learner.current_lesson)
        ):
            parts.append(N_("Stopped in the lesson “{title}”.", title=lesson_title(lesson)))
        return parts

    def _where(self, handoff: Handoff) -> Msg:
        places = {place.id: place for place in self.rules.handoff.places}
        place = places.get(handoff.place or BY_CHAT)
        if place is None:
            return N_("Where: by chat, through the coach.")
        if handoff.slot is not None:
            when = LocalDateTime(handoff.slot.astimezone(ZoneInfo(place.timezone)))
            return N_("Where: {place}, {when}.", place=Verbatim(place.name), when=when)
        return N_("Where: {place}, at its next opening hours.", place=Verbatim(place.name))

    def _sorry(self, now: datetime) -> Msg:
        places = self.rules.handoff.places
        if not places:
            return N_(
                "I am sorry: no volunteer could answer today. "
                "Your request stays open, and I will tell you when someone takes it."
            )
        return N_(
            "I am sorry: no volunteer could answer today. Your request stays open. "
            "You can also go without an appointment to: {places}",
            places=DropIns(tuple(places), now),
        )

    async def _relay_to_volunteer(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        learner: Learner,
        action: HandoffAction,
        now: datetime,
        aid: int,
    ) -> None:
        volunteer = (
            await uow.session.get(Volunteer, handoff.volunteer_id) if handoff.volunteer_id else None
        )
        if volunteer is None or not volunteer.telegram_user_id:
            return
        who = (
            Verbatim(learner.first_name)
            if handoff.share_name and learner.first_name
            else N_("The learner")
        )
        if action.text is not None:
            said = N_(
                "💬 {who} (#{id}): {text}", who=who, id=handoff.id, text=Verbatim(action.text)
            )
        else:
            said = N_(
                "📎 {who} (#{id}) sent a {kind}.",
                who=who,
                id=handoff.id,
                kind=Verbatim(action.media or ""),
            )
        reply = Reply((said,), tag=f"relay:{handoff.id}")
        media = None
        if action.media and action.message_id and learner.channel == VOLUNTEER_CHANNEL:
            media = {"kind": "copy", "from_chat": learner.chat_id, "message_id": action.message_id}
        key = f"handoff:{handoff.id}:relay:{aid}"
        await self._send(
            uow,
            VOLUNTEER_CHANNEL,
            volunteer.telegram_user_id,
            volunteer.telegram_user_id,
            None,
            self._language_of(volunteer),
            reply,
            key,
            now,
            media=media,
        )

    async def _edit_alerts(
        self, uow: UnitOfWork, handoff: Handoff, said: Msg, now: datetime, aid: int
    ) -> None:
        alerts = await uow.session.scalars(
            select(OutboxRow).where(
                OutboxRow.tag == f"alert:{handoff.id}", OutboxRow.platform_message_id.is_not(None)
            )
        )
        for alert in list(alerts):
            to = Destination(
                alert.channel,
                alert.chat_id,
                f"handoff:{handoff.id}:edit:{alert.id}:{aid}",
                pressed_message_id=alert.platform_message_id,
            )
            channel = self.channels.get(alert.channel, Capabilities(alert.channel))
            for row in Renderer(self.catalogs, channel).rows(
                [Reply((said,), edit_pressed=True)], to, alert.language, now
            ):
                await uow.outbox.add(row)

    async def _tell_volunteer(
        self, uow: UnitOfWork, handoff: Handoff, said: Msg, now: datetime, aid: int
    ) -> None:
        volunteer = (
            await uow.session.get(Volunteer, handoff.volunteer_id) if handoff.volunteer_id else None
        )
        if volunteer is not None:
            await self._to_volunteer(uow, volunteer, handoff, now, aid, "tell", said)

    async def _to_volunteer(
        self,
        uow: UnitOfWork,
        volunteer: Volunteer,
        handoff: Handoff,
        now: datetime,
        aid: int,
        purpose: str,
        said: Msg,
        tag: str | None = None,
    ) -> None:
        assert volunteer.telegram_user_id is not None
        reply = Reply((said,), tag=tag or f"relay:{handoff.id}")
        key = f"handoff:{handoff.id}:{purpose}:{aid}:{volunteer.id}"
        chat = volunteer.telegram_user_id
        await self._send(
            uow, VOLUNTEER_CHANNEL, chat, chat, None, self._language_of(volunteer), reply, key, now
        )

    async def _to_learner(
        self,
        uow: UnitOfWork,
        learner: Learner,
        handoff: Handoff,
        now: datetime,
        aid: int,
        purpose: str,
        said: Msg | Reply,
        media: dict[str, str] | None = None,
    ) -> None:
        reply = said if isinstance(said, Reply) else Reply((said,))
        language = learner.language or self.default_language
        key = f"handoff:{handoff.id}:{purpose}:{aid}:learner"
        await self._send(
            uow,
            learner.channel,
            learner.chat_id,
            learner.user_id,
            learner.id,
            language,
            reply,
            key,
            now,
            media=media,
        )

    async def _send(
        self,
        uow: UnitOfWork,
        channel_name: str,
        chat_id: str,
        user_id: str,
        learner_id: int | None,
        language: str,
        reply: Reply,
        key: str,
        now: datetime,
        media: dict[str, str] | None = None,
    ) -> None:
        channel = self.channels.get(channel_name, Capabilities(channel_name))
        group = chat_id != user_id or chat_id == self.volunteers_group
        to = Destination(channel_name, chat_id, key, learner_id, group=group)
        for row in Renderer(self.catalogs, channel).rows([reply], to, language, now):
            if media is not None:
                row.media = media
            await uow.outbox.add(row)

    # --- helpers

    async def _held(self, uow: UnitOfWork, volunteer: Volunteer, handoff_id: int) -> Handoff | None:
        handoff = await uow.session.get(Handoff, handoff_id)
        if handoff is None or handoff.status != "claimed" or handoff.volunteer_id != volunteer.id:
            log.warning("volunteer action on hand-off %d refused", handoff_id)
            return None
        return handoff

    def _matches(self, volunteer: Volunteer, handoff: Handoff) -> bool:
        speaks = not volunteer.languages or handoff.language in volunteer.languages
        place = handoff.place or BY_CHAT
        goes = place == BY_CHAT or not volunteer.places or place in volunteer.places
        return speaks and goes

    def _language_of(self, volunteer: Volunteer) -> str:
        for code in volunteer.languages:
            if code in self.catalogs.languages:
                return str(code)
        return self.default_language

    def _day_end(self, learner: Learner, now: datetime) -> datetime:
        """The end of the learner's local day (20:00), or of the next one when it is later."""
        zone = ZoneInfo(learner.timezone or "Europe/Paris")
        local = now.astimezone(zone)
        end = local.replace(hour=20, minute=0, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)

    async def _record(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        action: str,
        now: datetime,
        volunteer_id: int | None = None,
    ) -> int:
        """Log a desk action (ids and times only); its id makes each message's key unique."""
        data: dict[str, int] = {"handoff": handoff.id}
        if volunteer_id is not None:
            data["volunteer"] = volunteer_id
        return await uow.record_returning_id(handoff.learner_id, f"handoff_{action}", data, now)

    async def _tell_learner_requeued(
        self, uow: UnitOfWork, learner: Learner, handoff: Handoff, now: datetime, aid: int
    ) -> None:
        said = N_(
            "The volunteer who was going to help you is no longer available. "
            "I am asking the other volunteers now."
        )
        await self._to_learner(uow, learner, handoff, now, aid, "requeued", said)

    def _notify(self) -> None:
        if self.on_outbox is not None:
            self.on_outbox()


@dataclass(frozen=True)
class HandoffLine:
    id: int
    status: str
    topic: str
    language: str
    created_at: datetime
    to_claim: timedelta | None
    to_close: timedelta | None


async def handoff_lines(store: Store, open_only: bool) -> list[HandoffLine]:
    """For coordinators: requests with their times to claim and to close."""
    async with store.unit_of_work() as uow:
        query = select(Handoff).where(Handoff.status != "intake").order_by(Handoff.id)
        if open_only:
            query = query.where(Handoff.status.in_(("open", "claimed")))
        rows = list(await uow.session.scalars(query))
    lines = []
    for row in rows:
        start = row.opened_at or row.created_at
        lines.append(
            HandoffLine(
                row.id,
                row.status,
                row.topic or "-",
                row.language,
                row.created_at,
                row.claimed_at - start if row.claimed_at else None,
                row.closed_at - start if row.closed_at and row.status == "closed" else None,
            )
        )
    return lines


def median_to_claim(lines: list[HandoffLine]) -> timedelta | None:
    claimed = [line.to_claim.total_seconds() for line in lines if line.to_claim is not None]
    return timedelta(seconds=statistics.median(claimed)) if claimed else None

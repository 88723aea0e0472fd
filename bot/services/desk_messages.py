"""What the hand-off desk says, and to whom: alerts to volunteers, words between a learner and
their volunteer, notices. Every message's key comes from the id of the desk action it is for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.channel import Capabilities, Destination
from bot.core.effects import Choice, HandoffAction, Reply
from bot.core.handoff import BY_CHAT, TOPICS
from bot.core.menus import lesson_title
from bot.core.rules import Rules
from bot.core.text import N_, DropIns, LocalDateTime, Msg, Text, Verbatim
from bot.core.volunteering import volunteer_payload
from bot.course.holder import CourseHolder
from bot.i18n import Catalogs
from bot.services.rendering import Renderer
from bot.store.tables import Handoff, HandoffMessage, Learner, OutboxRow, Volunteer
from bot.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
VOLUNTEER_CHANNEL = "telegram"
KEPT = "kept"  # a message's media_ref when the file itself is kept with it (the web chat)
MEDIA_KINDS: dict[str, Msg] = {
    "photo": N_("a photo"),
    "voice": N_("a voice note"),
    "video_note": N_("a video message"),
    "location": N_("a location"),
    "contact": N_("a contact"),
    "document": N_("a document"),
    "sticker": N_("a sticker"),
    "other": N_("a message the coach cannot show"),
}


class DeskMessages:
    """The desk's messages; ``HandoffDesk`` gives the attributes below."""

    courses: CourseHolder
    catalogs: Catalogs
    rules: Rules
    channels: Mapping[str, Capabilities]
    clock: Callable[[], datetime]
    coordinators: tuple[str, ...]
    volunteers_group: str | None
    escalate_after: timedelta
    default_language: str
    on_outbox: Callable[[], None] | None

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
        may_claim = set(chats)
        if everyone:  # coordinators who do not volunteer are told, without a claim button
            chats.update({c: chats.get(c, self.default_language) for c in self.coordinators})
        if self.volunteers_group:
            chats.setdefault(self.volunteers_group, self.default_language)
            may_claim.add(self.volunteers_group)
        heading = N_("🙋 Request #{id}", id=handoff.id)
        if updated:
            heading = N_("🙋 Request #{id} (updated)", id=handoff.id)
        if everyone:
            heading = N_("⏰ Request #{id} is still waiting for someone", id=handoff.id)
        claim = Choice(N_("✋ I take it"), volunteer_payload("claim", str(handoff.id)))
        for chat_id, language in chats.items():
            assert chat_id is not None
            reply = Reply(
                (heading, *self._details(handoff, learner)),
                (claim,) if chat_id in may_claim else (),
                tag=f"alert:{handoff.id}",
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
        key = f"handoff:{handoff.id}:relay:{aid}"
        await self._keep(
            uow,
            handoff,
            key,
            "learner",
            now,
            text=action.text,
            media_kind=action.media,
            media_ref=KEPT if action.attachment is not None else action.media_ref,
            media_data=action.attachment,
        )
        volunteer = (
            await uow.session.get(Volunteer, handoff.volunteer_id) if handoff.volunteer_id else None
        )
        if volunteer is None or not self._on_telegram(volunteer, handoff):
            return  # the browser desk shows the kept message
        chat = volunteer.telegram_user_id
        assert chat is not None
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
            kind = MEDIA_KINDS.get(action.media or "", MEDIA_KINDS["other"])
            said = N_("📎 {who} (#{id}) sent {kind}.", who=who, id=handoff.id, kind=kind)
        reply = Reply((said,), tag=f"relay:{handoff.id}")
        media = None
        if action.media and action.message_id and learner.channel == VOLUNTEER_CHANNEL:
            media = {"kind": "copy", "from_chat": learner.chat_id, "message_id": action.message_id}
        language = self._language_of(volunteer)
        await self._send(
            uow, VOLUNTEER_CHANNEL, chat, chat, None, language, reply, key, now, media=media
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
        key = f"handoff:{handoff.id}:{purpose}:{aid}:{volunteer.id}"
        language = self._language_of(volunteer)
        if not self._on_telegram(volunteer, handoff):
            text = self.catalogs.render(said, language)
            await self._keep(uow, handoff, key, "coach", now, volunteer.id, text=text)
            return
        assert volunteer.telegram_user_id is not None
        reply = Reply((said,), tag=tag or f"relay:{handoff.id}")
        chat = volunteer.telegram_user_id
        await self._send(uow, VOLUNTEER_CHANNEL, chat, chat, None, language, reply, key, now)

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

    def _matches(self, volunteer: Volunteer, handoff: Handoff) -> bool:
        speaks = not volunteer.languages or handoff.language in volunteer.languages
        place = handoff.place or BY_CHAT
        goes = place == BY_CHAT or not volunteer.places or place in volunteer.places
        return speaks and goes

    def _language_of(self, volunteer: Volunteer) -> str:
        """One language for everything the coach tells a volunteer: the one they use the
        coach in, else the first they speak that the coach has."""
        spoken = (volunteer.language, *volunteer.languages)
        return self.catalogs.first_offered(spoken, self.default_language)

    @staticmethod
    def _on_telegram(volunteer: Volunteer, handoff: Handoff) -> bool:
        """Whether the request's volunteer works on it in Telegram (else in the browser)."""
        return volunteer.telegram_user_id is not None and handoff.volunteer_channel != "desk"

    async def _keep(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        key: str,
        author: str,
        now: datetime,
        volunteer_id: int | None = None,
        *,
        text: str | None = None,
        media_kind: str | None = None,
        media_ref: str | None = None,
        media_data: bytes | None = None,
    ) -> None:
        """The conversation as the browser desk shows it; ``key`` is unique per desk action."""
        uow.session.add(
            HandoffMessage(
                handoff_id=handoff.id,
                key=key,
                author=author,
                volunteer_id=volunteer_id,
                text=text,
                media_kind=media_kind,
                media_ref=media_ref[:300] if media_ref else None,
                media_data=media_data,
                created_at=now,
            )
        )

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

    def _notify(self) -> None:
        if self.on_outbox is not None:
            self.on_outbox()

    def _day_end(self, learner: Learner, now: datetime) -> datetime:
        """The end of the learner's local day (20:00), or of the next one when it is later."""
        zone = ZoneInfo(learner.timezone or "Europe/Paris")
        local = now.astimezone(zone)
        end = local.replace(hour=20, minute=0, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)

    async def _tell_learner_requeued(
        self, uow: UnitOfWork, learner: Learner, handoff: Handoff, now: datetime, aid: int
    ) -> None:
        said = N_(
            "The volunteer who was going to help you is no longer available. "
            "I am asking the other volunteers now."
        )
        await self._to_learner(uow, learner, handoff, now, aid, "requeued", said)

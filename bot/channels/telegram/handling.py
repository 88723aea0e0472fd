"""What the coach does with one Telegram update, whichever library received it.

Volunteers' business first, then every learner's message and button press becomes one core
event for the coach service; a press is answered with the service's notice as an alert, or
with nothing. A database that cannot be reached raises ``Unavailable``: the update was not
handled, and the runtime leaves it with Telegram (polling) or answers 500 (webhook).
"""

from __future__ import annotations

from bot.channels.telegram.api import BotCalls
from bot.channels.telegram.inbound import (
    CHANNEL,
    JSON,
    BotUser,
    button_event,
    message_event,
)
from bot.channels.telegram.volunteering import PREFIX, Volunteering
from bot.core.turn import HELP_START
from bot.i18n import Catalogs
from bot.services.coach import CoachService


class UpdateHandling:
    def __init__(
        self, service: CoachService, catalogs: Catalogs, volunteering: Volunteering
    ) -> None:
        self.service = service
        self.catalogs = catalogs
        self.volunteering = volunteering
        self._me = BotUser(0)

    @property
    def me(self) -> BotUser:
        """The coach's own account; set once the runtime has asked getMe."""
        return self._me

    @me.setter
    def me(self, me: BotUser) -> None:
        self._me = me
        if me.username:  # learners who ask for a person in a group are sent to a private chat
            link = f"https://t.me/{me.username}?start={HELP_START}"
            self.service.help_links[CHANNEL.name] = link

    async def update(self, update: JSON, bot: BotCalls) -> None:
        """Handle one update; the kinds the coach does not ask for are ignored."""
        if "message" in update:
            await self.message(update["message"], bot)
        elif "callback_query" in update:
            await self.button(update["callback_query"], bot)

    async def message(self, message: JSON, bot: BotCalls) -> None:
        """A learner (or a volunteer) wrote, spoke, or sent something."""
        person = message.get("from")
        if person is None or person.get("is_bot"):
            return
        if await self.volunteering.message(message, self.me, bot):
            return
        event = message_event(message, self.me, self.service.clock())
        if event is not None:
            await self.service.handle(event, CHANNEL)

    async def button(self, query: JSON, bot: BotCalls) -> None:
        """A button press: handled like a message, then answered (with a notice if refused)."""
        if (query.get("data") or "").startswith(PREFIX):
            await self.volunteering.button(query, bot)
            return
        event = button_event(query, self.service.clock())
        if event is None:  # a press Telegram gives no message for: nothing else to do
            await bot.answer_button(query["id"])
            return
        notice = (await self.service.handle(event, CHANNEL)).notice
        alert = None
        if notice is not None:
            language = self.catalogs.best_match(event.sender.language_hint, self.catalogs.fallback)
            alert = self.catalogs.render(notice, language)
        await bot.answer_button(query["id"], alert)

"""A volunteer using Telegram beside the learners: what they do and what the coach shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.app import Coach
from bot.services.volunteers import Volunteers
from tests.fakes import FakeTelegram, FakeUser, SentMessage
from tests.telegram_learner import settled


@dataclass
class TelegramVolunteer:
    coach: Coach
    tg: FakeTelegram
    user: FakeUser
    notice: str | None = None  # the alert shown for the last button pressed

    @property
    def chat_id(self) -> int:
        return self.user.id

    async def joins(self, languages: list[str] | None = None) -> list[str]:
        """An admin invites them from the command line; they open the link in Telegram."""
        volunteers = Volunteers(self.coach.store, lambda: datetime.now(UTC))
        name = self.user.first_name
        invite = await volunteers.invite(name, languages or [], [], "coach_test_bot")
        return await self.says("/start " + invite.link.split("start=")[1])

    async def _after(self, update: dict[str, Any]) -> list[str]:
        before = len(self.tg.sent(self.chat_id))
        await settled(self.coach, update)
        return [m.text or "" for m in self.tg.sent(self.chat_id)[before:]]

    async def says(self, text: str, replying_to: SentMessage | None = None) -> list[str]:
        """Types a message or a command; ``replying_to``: after swiping "reply" on a message."""
        reply = replying_to.message_id if replying_to is not None else None
        if text.startswith("/"):
            return await self._after(self.tg.send_command(self.user, text))
        return await self._after(self.tg.send_text(self.user, text, reply_to_message_id=reply))

    async def sends_photo(self) -> list[str]:
        return await self._after(self.tg.send_photo(self.user))

    def latest(self) -> SentMessage:
        return self.tg.sent(self.chat_id)[-1]

    def last_text(self) -> str:
        return self.latest().text or ""

    def find(self, words: str) -> SentMessage:
        """The newest message from the coach that says these words."""
        for message in reversed(self.tg.sent(self.chat_id)):
            if words in (message.text or ""):
                return message
        raise AssertionError(f"no message with {words!r}")

    def button(self, label: str, on: SentMessage | None = None) -> tuple[SentMessage, str]:
        """The newest button with this label (its number is not needed), and its message."""
        messages = [on] if on is not None else list(reversed(self.tg.sent(self.chat_id)))
        for message in messages:
            for button in message.labels:
                if button.split(". ", 1)[-1] == label:
                    return message, button
        raise AssertionError(f"no button {label!r}")

    async def taps(self, label: str, on: SentMessage | None = None) -> list[str]:
        """Presses a button; what the coach said after, and ``notice``: the alert shown."""
        update = self.tg.press(self.user, *self.button(label, on))
        said = await self._after(update)
        query = str(update["callback_query"]["id"])  # the answers are read anew each time
        await self.tg.wait_until(lambda: any(a.id == query for a in self.tg.answered_callbacks))
        self.notice = next(a.text for a in self.tg.answered_callbacks if a.id == query)
        return said

"""Volunteers on Telegram: a translator. A private message or a ``vol:`` button becomes a core
event for the volunteer desk, which decides, checks and answers through the outbox; a
refused press is answered with the desk's notice as an alert. Messages that are not a
volunteer's business are left to the learners' handling (``message`` then returns False).
"""

from __future__ import annotations

from bot.channels.telegram.api import BotCalls
from bot.channels.telegram.inbound import (
    CHANNEL,
    JSON,
    BotUser,
    button_event,
    is_private,
    message_event,
)
from bot.core.volunteering import PREFIX
from bot.i18n import Catalogs
from bot.services.erasure import ErasedKeys
from bot.services.handoffs import HandoffDesk
from bot.services.volunteer_desk import VolunteerDesk
from bot.services.volunteers import Volunteers

__all__ = ["PREFIX", "Volunteering"]


class Volunteering:
    def __init__(
        self,
        volunteers: Volunteers,
        desk: HandoffDesk,
        catalogs: Catalogs,
        admins: tuple[str, ...] = (),
        erased_keys: ErasedKeys | None = None,
    ) -> None:
        self.catalogs = catalogs
        self.clock = desk.clock
        self.desk = VolunteerDesk(desk, volunteers, catalogs, admins, desk.on_outbox, erased_keys)

    async def message(self, message: JSON, me: BotUser, bot: BotCalls) -> bool:
        """A volunteer's message in a private chat; False when it is not theirs."""
        if not is_private(message):
            return False
        event = message_event(message, me, self.clock())
        if event is None:
            return False
        return await self.desk.handle(event, CHANNEL, me.username or "") is not None

    async def button(self, query: JSON, bot: BotCalls) -> None:
        """Claim, close, a setting or a choice of request: answered, with a notice if refused."""
        event = button_event(query, self.clock())
        handled = await self.desk.handle(event, CHANNEL) if event is not None else None
        alert = None
        if handled is not None and handled.notice is not None:
            hint = query["from"].get("language_code")
            language = self.catalogs.best_match(hint, self.catalogs.fallback)
            alert = self.catalogs.render(handled.notice, language)
        await bot.answer_button(query["id"], alert)

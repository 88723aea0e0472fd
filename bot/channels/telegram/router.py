"""The learners' router: every message and button press becomes one core event."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.inbound import CHANNEL, button_event, message_event
from bot.core.events import Inbound
from bot.core.text import N_, Msg
from bot.i18n import Catalogs
from bot.services.coach import CoachService, Unavailable

log = logging.getLogger(__name__)
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
SORRY = N_(
    "Sorry, something went wrong on our side. Please send your message again in a few minutes."
)


def learner_router(service: CoachService, catalogs: Catalogs, *, redelivered: bool) -> Router:
    """``redelivered``: Telegram sends an update again when it fails (webhook mode)."""
    router = Router(name="learners")

    async def handle(event: Inbound, bot: Bot) -> Msg | None:
        """The event handled; the notice for a refused button press, if any."""
        if redelivered:
            # an error answers 500: Telegram sends the update again
            return (await service.handle(event, CHANNEL)).notice
        for delay in (*RETRY_DELAYS, None):
            try:
                return (await service.handle(event, CHANNEL)).notice
            except Unavailable:
                if delay is None:
                    break
                log.warning("database unavailable for %s; again in %.0f s", event.key, delay)
                await asyncio.sleep(delay)
        log.error("event %s dropped: the database stayed unavailable", event.key)
        language = catalogs.best_match(event.sender.language_hint, catalogs.fallback)
        await bot.send_message(int(event.sender.chat_id), catalogs.render(SORRY, language))
        return None

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        """A learner wrote, spoke, or sent something."""
        if message.from_user is None or message.from_user.is_bot:
            return
        event = message_event(message, message.from_user, await bot.me(), service.clock())
        if event is not None:
            await handle(event, bot)

    @router.callback_query(F.message)
    async def on_button(query: CallbackQuery, bot: Bot) -> None:
        """A button press: handled like a message, then answered (with a notice if refused)."""
        event = button_event(query, service.clock())
        if event is None:
            await query.answer()
            return
        notice: Msg | None = None
        try:
            notice = await handle(event, bot)
        finally:
            language = catalogs.best_match(event.sender.language_hint, catalogs.fallback)
            alert = catalogs.render(notice, language) if notice is not None else None
            await query.answer(alert, show_alert=alert is not None)

    @router.callback_query()
    async def on_orphan_button(query: CallbackQuery) -> None:
        """A press Telegram gives no message for: answered, nothing else to do."""
        await query.answer()

    return router

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
from bot.service import CoachService, Unavailable

log = logging.getLogger(__name__)
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)
SORRY = N_(
    "Sorry, something went wrong on our side. Please send your message again in a few minutes."
)


def not_yours(name: str) -> Msg:
    return N_("These buttons are for {name}. Send /start to begin your own lessons.", name=name)


def learner_router(service: CoachService, catalogs: Catalogs, *, redelivered: bool) -> Router:
    """``redelivered``: Telegram sends an update again when it fails (webhook mode)."""
    router = Router(name="learners")

    async def handle(event: Inbound, bot: Bot) -> None:
        if redelivered:
            await service.handle(event, CHANNEL)  # an error answers 500: Telegram sends it again
            return
        for delay in (*RETRY_DELAYS, None):
            try:
                await service.handle(event, CHANNEL)
                return
            except Unavailable:
                if delay is None:
                    break
                log.warning("database unavailable for %s; again in %.0f s", event.key, delay)
                await asyncio.sleep(delay)
        log.error("event %s dropped: the database stayed unavailable", event.key)
        language = catalogs.best_match(event.sender.language_hint, catalogs.fallback)
        await bot.send_message(int(event.sender.chat_id), catalogs.render(SORRY, language))

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        """A learner wrote, spoke, or sent something."""
        if message.from_user is None or message.from_user.is_bot:
            return
        me = await bot.me()
        tag = None
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
            sent = await service.sent_message(
                CHANNEL.name, str(message.chat.id), str(replied.message_id)
            )
            tag = sent.tag if sent is not None else None
        event = message_event(message, message.from_user, me, tag, service.clock())
        if event is not None:
            await handle(event, bot)

    @router.callback_query(F.message)
    async def on_button(query: CallbackQuery, bot: Bot) -> None:
        """A button press: answered at once, then handled like a message."""
        event = button_event(query, service.clock())
        if event is None:
            await query.answer()
            return
        if event.sender.group and event.pressed_message_id is not None:
            owner = await _owner_name(service, event)
            if owner is not None:
                language = catalogs.best_match(event.sender.language_hint, catalogs.fallback)
                await query.answer(catalogs.render(not_yours(owner), language), show_alert=True)
                return
        await query.answer()
        await handle(event, bot)

    @router.callback_query()
    async def on_orphan_button(query: CallbackQuery) -> None:
        """A press Telegram gives no message for: answered, nothing else to do."""
        await query.answer()

    return router


async def _owner_name(service: CoachService, event: Inbound) -> str | None:
    """In a group: the first name of whoever owns the pressed buttons, if not the presser."""
    assert event.pressed_message_id is not None
    sent = await service.sent_message(CHANNEL.name, event.sender.chat_id, event.pressed_message_id)
    if sent is None or sent.learner_id is None:
        return None
    owner = await service.learner_identity(sent.learner_id)
    if owner is None or owner.user_id == event.sender.user_id:
        return None
    return owner.first_name or "…"

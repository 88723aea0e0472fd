"""The Telegram channel, built from settings: on when a bot token is set."""

from __future__ import annotations

from bot.channels.base import ChannelParts, Wiring
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.inbound import CHANNEL
from bot.channels.telegram.runtime import TelegramRuntime
from bot.channels.telegram.volunteer_router import volunteer_router
from bot.store.media import MediaCache


def telegram(wiring: Wiring) -> ChannelParts | None:
    settings = wiring.settings
    if settings.telegram_token is None:
        return None
    volunteering = volunteer_router(
        wiring.volunteers, wiring.desk, wiring.catalogs, tuple(settings.admins)
    )
    runtime = TelegramRuntime(settings, wiring.service, wiring.catalogs, before=(volunteering,))
    delivery = TelegramDelivery(
        runtime.bot, MediaCache(wiring.store), settings.curriculum_path, wiring.clock
    )
    return ChannelParts(CHANNEL, runtime.routes(), delivery, runtime)

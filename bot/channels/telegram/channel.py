"""The Telegram channel, built from settings: on when a bot token is set, on the library that
``COACH_TELEGRAM_RUNTIME`` names (aiogram unless it says python-telegram-bot)."""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.base import ChannelParts, Wiring
from bot.channels.telegram.aiogram_library import AiogramLibrary
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.handling import UpdateHandling
from bot.channels.telegram.inbound import CHANNEL
from bot.channels.telegram.ptb_library import PtbLibrary
from bot.channels.telegram.runtime import Library, TelegramRuntime
from bot.channels.telegram.volunteering import Volunteering
from bot.store.media import MediaCache

LIBRARIES: dict[str, Callable[[str, str, UpdateHandling], Library]] = {
    "aiogram": AiogramLibrary,
    "python-telegram-bot": PtbLibrary,
}


def telegram(wiring: Wiring) -> ChannelParts | None:
    settings = wiring.settings
    if settings.telegram_token is None:
        return None
    volunteering = Volunteering(
        wiring.volunteers,
        wiring.desk,
        wiring.catalogs,
        tuple(settings.admins),
        wiring.service.erased_keys,  # a volunteer's erased messages, delivered again
    )
    handling = UpdateHandling(wiring.service, wiring.catalogs, volunteering)
    token = settings.telegram_token.get_secret_value()
    library: Library = LIBRARIES[settings.telegram_runtime](
        token, settings.telegram_api_base, handling
    )
    runtime = TelegramRuntime(settings, library, handling)
    delivery = TelegramDelivery(
        library.calls, MediaCache(wiring.store), settings.curriculum_path, wiring.clock
    )
    calls = library.calls

    async def media(ref: str, limit: int) -> bytes | None:
        return await calls.download(ref, limit)

    return ChannelParts(CHANNEL, runtime.routes(), delivery, runtime, media)

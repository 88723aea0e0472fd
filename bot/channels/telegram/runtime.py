"""The Telegram receiver, on either library: long polling or a webhook with a secret token.

A ``Library`` is the library-specific part (aiogram or python-telegram-bot): its bot, its
dispatcher or application, and its calls. Everything here is shared by both.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from aiohttp import web

from bot.channels.telegram.aiogram_library import make_bot
from bot.channels.telegram.api import BotCalls
from bot.channels.telegram.commands import Menu, register_commands
from bot.channels.telegram.handling import UpdateHandling
from bot.channels.telegram.inbound import JSON, UPDATES, BotUser
from bot.channels.telegram.polling import Polling
from bot.channels.webhooks import WebhookCalls
from bot.config import WEBHOOK_SECRET_MISSING, Settings

__all__ = ["Library", "TelegramRuntime", "make_bot"]

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Library(Protocol):
    """One Telegram library, wrapped: it feeds each update to the shared handling."""

    @property
    def name(self) -> str: ...

    @property
    def calls(self) -> BotCalls: ...

    async def start(self) -> BotUser:
        """Ready the bot (``getMe``); the coach's own account."""
        ...

    async def set_commands(self, menu: Menu, language: str | None) -> None: ...

    async def set_webhook(self, url: str, secret: str, updates: list[str]) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def fetch(self, offset: int | None, wait: int) -> Sequence[Any]:
        """``getUpdates``: the library's updates, each with an ``update_id``."""
        ...

    async def process(self, update: Any) -> None:
        """Handle one fetched update through the library; raises what the handling raised."""
        ...

    async def process_json(self, body: JSON) -> None:
        """Handle one update a webhook call carried."""
        ...

    async def close(self) -> None: ...


class TelegramRuntime:
    def __init__(self, settings: Settings, library: Library, handling: UpdateHandling) -> None:
        self.settings = settings
        self.library = library
        self.handling = handling
        self.webhook = settings.telegram_webhook_url is not None
        self.polling = Polling(library.fetch, library.process)
        self.calls = WebhookCalls("telegram webhook")
        self._polling = False

    @property
    def bot(self) -> BotCalls:
        return self.library.calls

    def routes(self) -> list[web.RouteDef]:
        """The webhook endpoint; a call without the right secret token is refused with 401."""
        if not self.webhook:
            return []
        self._secret()
        return [web.post(self.settings.telegram_webhook_path, self._on_webhook)]

    def _secret(self) -> str:
        secret = self.settings.telegram_webhook_secret
        if secret is None:  # the settings refuse this; never serve a webhook anyone can call
            raise ValueError(WEBHOOK_SECRET_MISSING)
        return secret.get_secret_value()

    async def start(self) -> None:
        log.info("telegram runtime: %s", self.library.name)
        self.handling.me = me = await self.library.start()
        log.info("telegram bot %d ready", me.id)
        await register_commands(self.library.set_commands, self.handling.catalogs)
        if self.webhook:
            url = str(self.settings.telegram_webhook_url)
            await self.library.set_webhook(url, self._secret(), list(UPDATES))
            return
        await self.library.delete_webhook()
        self.polling.start()
        self._polling = True

    async def _on_webhook(self, request: web.Request) -> web.StreamResponse:
        """One update from Telegram; answered 500 when not handled, so Telegram sends it again."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, self._secret().encode()):
            return web.Response(status=401)
        return await self.calls.answer(await request.read(), self.library.process_json)

    async def stop_receiving(self) -> None:
        """Stop taking updates and let those in hand be handled, each within a bounded time;
        the sender may still send."""
        if self._polling:
            self._polling = False
            await self.polling.stop(STOP_GRACE_SECONDS)
        await self.calls.stop(STOP_GRACE_SECONDS)

    async def close(self) -> None:
        await self.stop_receiving()
        await self.library.close()

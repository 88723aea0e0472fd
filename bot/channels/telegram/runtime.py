"""The Telegram runtime: the bot, its dispatcher, and long polling or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.channels.telegram.commands import register_commands
from bot.channels.telegram.router import learner_router
from bot.config import Settings
from bot.i18n import Catalogs
from bot.service import CoachService

log = logging.getLogger(__name__)


def make_bot(token: str, api_base: str) -> Bot:
    """A bot that talks to Telegram, or to a self-hosted or fake Bot API server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    return Bot(token, session=session)


class TelegramRuntime:
    def __init__(
        self,
        settings: Settings,
        service: CoachService,
        catalogs: Catalogs,
        before: tuple[Router, ...] = (),
    ) -> None:
        """``before``: routers that see each update before the learners' router."""
        assert settings.telegram_token is not None
        self.settings = settings
        self.catalogs = catalogs
        self.bot = make_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_base)
        self.webhook = settings.telegram_webhook_url is not None
        self.dispatcher = Dispatcher()
        for router in before:
            self.dispatcher.include_router(router)
        self.dispatcher.include_router(learner_router(service, catalogs, redelivered=self.webhook))
        self._polling: asyncio.Task[None] | None = None

    def add_routes(self, app: web.Application) -> None:
        """The webhook endpoint; a call without the right secret token is refused with 401."""
        if not self.webhook:
            return
        secret = self.settings.telegram_webhook_secret
        SimpleRequestHandler(
            dispatcher=self.dispatcher,
            bot=self.bot,
            handle_in_background=False,
            secret_token=secret.get_secret_value() if secret else None,
        ).register(app, path=self.settings.telegram_webhook_path)

    async def start(self) -> None:
        me = await self.bot.me()
        log.info("telegram bot %d ready", me.id)
        await register_commands(self.bot, self.catalogs)
        updates = self.dispatcher.resolve_used_update_types()
        if self.webhook:
            secret = self.settings.telegram_webhook_secret
            await self.bot.set_webhook(
                str(self.settings.telegram_webhook_url),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=updates,
            )
            return
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot, handle_signals=False, close_bot_session=False, allowed_updates=updates
            )
        )

    async def stop_receiving(self) -> None:
        """Stop long polling; what was received is handled, the sender may still send."""
        if self._polling is not None:
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:  # polling has not begun yet: nothing was received
                self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None

    async def close(self) -> None:
        await self.stop_receiving()
        await self.bot.session.close()

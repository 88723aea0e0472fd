"""The Telegram runtime: the bot, its dispatcher, and long polling or a webhook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import TelegramObject
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.channels.telegram.commands import register_commands
from bot.channels.telegram.router import learner_router
from bot.config import WEBHOOK_SECRET_MISSING, Settings
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.stopping import finish

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


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
        self.dispatcher.update.outer_middleware(self._track)
        self._polling: asyncio.Task[None] | None = None
        self._handling: set[asyncio.Task[Any]] = set()

    def routes(self) -> list[web.RouteDef]:
        """The webhook endpoint; a call without the right secret token is refused with 401."""
        if not self.webhook:
            return []
        handler = SimpleRequestHandler(
            dispatcher=self.dispatcher,
            bot=self.bot,
            handle_in_background=False,
            secret_token=self._secret(),
        )
        return [web.post(self.settings.telegram_webhook_path, handler.handle)]

    def _secret(self) -> str:
        secret = self.settings.telegram_webhook_secret
        if secret is None:  # the settings refuse this; never serve a webhook anyone can call
            raise ValueError(WEBHOOK_SECRET_MISSING)
        return secret.get_secret_value()

    async def start(self) -> None:
        me = await self.bot.me()
        log.info("telegram bot %d ready", me.id)
        await register_commands(self.bot, self.catalogs)
        updates = self.dispatcher.resolve_used_update_types()
        if self.webhook:
            await self.bot.set_webhook(
                str(self.settings.telegram_webhook_url),
                secret_token=self._secret(),
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
        """Stop long polling and let the updates in hand be handled, each within a bounded
        time; the sender may still send."""
        polling, self._polling = self._polling, None
        if polling is not None:
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await self.dispatcher.stop_polling()
            except RuntimeError:  # polling has not begun yet: nothing was received
                polling.cancel()
            except TimeoutError:
                log.warning("telegram polling did not stop within %.0f s", STOP_GRACE_SECONDS)
            await finish([polling], "telegram polling", grace=1.0)
        await finish(self._handling, "telegram updates", STOP_GRACE_SECONDS)

    async def _track(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outer middleware: remember the task handling each update, so a stop can wait."""
        task = asyncio.current_task()
        assert task is not None
        self._handling.add(task)
        try:
            return await handler(update, data)
        finally:
            self._handling.discard(task)

    async def close(self) -> None:
        await self.stop_receiving()
        await self.bot.session.close()

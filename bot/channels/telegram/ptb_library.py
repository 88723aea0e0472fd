"""The Telegram channel on python-telegram-bot 22: an Application with no updater and no rate
limiter (the coach polls itself, and the outbox owns the limits), one handler that passes
every update to the shared handling as the Bot API's JSON, and the calls it makes."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.channels.telegram.api import ApiFailure, Keyboard, Problem
from bot.channels.telegram.commands import Menu
from bot.channels.telegram.handling import UpdateHandling
from bot.channels.telegram.inbound import JSON, UPDATES, BotUser

# PTB 22 warns each time a time period is read as seconds, and reads RetryAfter's itself:
# opt in to what its next major version does (time periods as timedelta).
os.environ.setdefault("PTB_TIMEDELTA", "true")
# httpx, under PTB, logs every request's URL at INFO, and the URL holds the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)
FAILURES: tuple[tuple[type[Exception], Problem], ...] = (
    (RetryAfter, Problem.FLOOD),
    (Forbidden, Problem.FORBIDDEN),
    (ChatMigrated, Problem.MIGRATED),
    (BadRequest, Problem.BAD_REQUEST),  # before NetworkError: PTB derives it from that
    (NetworkError, Problem.NETWORK),  # TimedOut too, and 5xx answers
    (Conflict, Problem.NETWORK),
    (InvalidToken, Problem.REQUEST),  # 401 and 404
    (EndPointNotFound, Problem.REQUEST),
    (TimeoutError, Problem.NETWORK),
)
Context = ContextTypes.DEFAULT_TYPE


def retry_seconds(error: RetryAfter) -> float:
    after = error.retry_after
    return after.total_seconds() if isinstance(after, timedelta) else float(after)


@asynccontextmanager
async def failures() -> AsyncIterator[None]:
    """python-telegram-bot's exceptions as ApiFailure."""
    try:
        yield
    except tuple(kind for kind, _ in FAILURES) as error:
        problem = next(problem for kind, problem in FAILURES if isinstance(error, kind))
        raise ApiFailure(
            problem,
            error.message if isinstance(error, TelegramError) else type(error).__name__,
            retry_after=retry_seconds(error) if isinstance(error, RetryAfter) else 1.0,
            moved_to=str(error.new_chat_id) if isinstance(error, ChatMigrated) else "",
        ) from error


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    rows = [[InlineKeyboardButton(text=label, callback_data=data)] for label, data in keyboard]
    return InlineKeyboardMarkup(rows)


class PtbCalls:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(
        self, chat: int, text: str, keyboard: Keyboard = (), reply_to: int | None = None
    ) -> int:
        reply = None
        if reply_to is not None:
            reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        async with failures():
            sent = await self.bot.send_message(
                chat, text, reply_markup=markup(keyboard), reply_parameters=reply
            )
        return sent.message_id

    async def edit_text(self, chat: int, message_id: int, text: str, keyboard: Keyboard) -> None:
        async with failures():
            await self.bot.edit_message_text(
                text, chat_id=chat, message_id=message_id, reply_markup=markup(keyboard)
            )

    async def copy(self, chat: int, from_chat: int, message_id: int) -> None:
        async with failures():
            await self.bot.copy_message(chat, from_chat, message_id)

    async def send_media(
        self, kind: str, chat: int, file: str | Path, caption: str | None, keyboard: Keyboard
    ) -> tuple[int, str | None, int | None]:
        buttons = markup(keyboard)
        async with failures():
            if kind == "photo":
                sent = await self.bot.send_photo(chat, file, caption, reply_markup=buttons)
            elif kind == "voice":
                sent = await self.bot.send_voice(chat, file, caption=caption, reply_markup=buttons)
            else:
                sent = await self.bot.send_audio(chat, file, caption=caption, reply_markup=buttons)
        return sent.message_id, *kept_file(sent, kind)

    async def answer_button(self, query_id: str, alert: str | None = None) -> None:
        async with failures():
            await self.bot.answer_callback_query(query_id, alert, show_alert=alert is not None)

    async def download(self, file_id: str, limit: int) -> bytes | None:
        async with failures():
            found = await self.bot.get_file(file_id)
            if (found.file_size or 0) > limit:
                return None
            return bytes(await found.download_as_bytearray())


def kept_file(message: Message, kind: str) -> tuple[str | None, int | None]:
    """The id and size of the file Telegram keeps: for a photo, its largest size."""
    if kind == "photo":
        largest = message.photo[-1] if message.photo else None
        return (largest.file_id, largest.file_size) if largest else (None, None)
    attachment = message.voice if kind == "voice" else message.audio
    return (attachment.file_id, attachment.file_size) if attachment is not None else (None, None)


class PtbLibrary:
    name = "python-telegram-bot"

    def __init__(self, token: str, api_base: str, handling: UpdateHandling) -> None:
        base = api_base.rstrip("/")
        builder = ApplicationBuilder().token(token).updater(None)
        # PTB appends the token to these: …/bot<token>/<method>, …/file/bot<token>/<path>
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.calls = PtbCalls(self.application.bot)
        self.handling = handling
        self._failed: dict[int, Exception] = {}
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    async def _on_update(self, update: Update, _: Context) -> None:
        await self.handling.update(update.to_dict(), self.calls)

    async def _on_error(self, update: object, context: Context) -> None:
        """PTB passes a handler's exception here; ``process`` raises it again."""
        if context.error is not None:
            self._failed[id(update)] = context.error

    async def start(self) -> BotUser:
        await self.application.initialize()
        me = self.application.bot.bot
        return BotUser(me.id, me.username)

    async def set_commands(self, menu: Menu, language: str | None) -> None:
        commands = [BotCommand(name, text) for name, text in menu]
        await self.application.bot.set_my_commands(commands, language_code=language)

    async def set_webhook(self, url: str, secret: str, updates: list[str]) -> None:
        await self.application.bot.set_webhook(url, secret_token=secret, allowed_updates=updates)

    async def delete_webhook(self) -> None:
        await self.application.bot.delete_webhook(drop_pending_updates=False)

    async def fetch(self, offset: int | None, wait: int) -> Sequence[Any]:
        updates: tuple[Update, ...] = await self.application.bot.get_updates(
            offset=offset, timeout=wait, allowed_updates=list(UPDATES)
        )
        return updates

    async def process(self, update: Any) -> None:
        await self.application.process_update(update)
        failed = self._failed.pop(id(update), None)
        if failed is not None:
            raise failed

    async def process_json(self, body: JSON) -> None:
        await self.process(Update.de_json(body, self.application.bot))

    async def close(self) -> None:
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

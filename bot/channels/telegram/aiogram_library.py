"""The Telegram channel on aiogram 3: a Bot, a Dispatcher whose router hands every message
and button press to the shared handling as the Bot API's JSON, and the calls it makes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    TelegramObject,
    Update,
)

from bot.channels.telegram.api import ApiFailure, Keyboard, Problem
from bot.channels.telegram.commands import Menu
from bot.channels.telegram.handling import UpdateHandling
from bot.channels.telegram.inbound import JSON, UPDATES, BotUser

FAILURES: tuple[tuple[type[Exception], Problem], ...] = (
    (TelegramRetryAfter, Problem.FLOOD),
    (TelegramForbiddenError, Problem.FORBIDDEN),
    (TelegramMigrateToChat, Problem.MIGRATED),
    (TelegramServerError, Problem.NETWORK),
    (TelegramNetworkError, Problem.NETWORK),
    (TimeoutError, Problem.NETWORK),
    (TelegramNotFound, Problem.REQUEST),
    (TelegramUnauthorizedError, Problem.REQUEST),
    (TelegramBadRequest, Problem.BAD_REQUEST),
)


def make_bot(token: str, api_base: str) -> Bot:
    """A bot that talks to Telegram, or to a self-hosted or fake Bot API server."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
    return Bot(token, session=session)


@asynccontextmanager
async def failures() -> AsyncIterator[None]:
    """aiogram's exceptions as ApiFailure."""
    try:
        yield
    except tuple(kind for kind, _ in FAILURES) as error:
        problem = next(problem for kind, problem in FAILURES if isinstance(error, kind))
        raise ApiFailure(
            problem,
            getattr(error, "message", type(error).__name__),
            retry_after=getattr(error, "retry_after", 1),
            moved_to=str(getattr(error, "migrate_to_chat_id", "")),
        ) from error


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    rows = [[InlineKeyboardButton(text=label, callback_data=data)] for label, data in keyboard]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class AiogramCalls:
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
                chat_id=chat, text=text, reply_markup=markup(keyboard), reply_parameters=reply
            )
        return sent.message_id

    async def edit_text(self, chat: int, message_id: int, text: str, keyboard: Keyboard) -> None:
        async with failures():
            await self.bot.edit_message_text(
                text=text, chat_id=chat, message_id=message_id, reply_markup=markup(keyboard)
            )

    async def copy(self, chat: int, from_chat: int, message_id: int) -> None:
        async with failures():
            await self.bot.copy_message(chat, from_chat, message_id)

    async def send_media(
        self, kind: str, chat: int, file: str | Path, caption: str | None, keyboard: Keyboard
    ) -> tuple[int, str | None, int | None]:
        media = FSInputFile(file) if isinstance(file, Path) else file
        buttons = markup(keyboard)
        async with failures():
            if kind == "photo":
                sent = await self.bot.send_photo(chat, media, caption=caption, reply_markup=buttons)
            elif kind == "voice":
                sent = await self.bot.send_voice(chat, media, caption=caption, reply_markup=buttons)
            else:
                sent = await self.bot.send_audio(chat, media, caption=caption, reply_markup=buttons)
        return sent.message_id, *kept_file(sent, kind)

    async def answer_button(self, query_id: str, alert: str | None = None) -> None:
        async with failures():
            await self.bot.answer_callback_query(query_id, alert, show_alert=alert is not None)

    async def download(self, file_id: str, limit: int) -> bytes | None:
        async with failures():
            found = await self.bot.get_file(file_id)
            if found.file_path is None or (found.file_size or 0) > limit:
                return None
            data = await self.bot.download_file(found.file_path)
        return data.read() if data is not None else None


def kept_file(message: Message, kind: str) -> tuple[str | None, int | None]:
    """The id and size of the file Telegram keeps: for a photo, its largest size."""
    if kind == "photo":
        largest = message.photo[-1] if message.photo else None
        return (largest.file_id, largest.file_size) if largest else (None, None)
    attachment = getattr(message, kind)
    return (attachment.file_id, attachment.file_size) if attachment is not None else (None, None)


class AiogramLibrary:
    name = "aiogram"

    def __init__(self, token: str, api_base: str, handling: UpdateHandling) -> None:
        self.bot = make_bot(token, api_base)
        self.calls = AiogramCalls(self.bot)
        self.handling = handling
        self.dispatcher = Dispatcher()
        router = Router(name="coach")
        router.message.register(self._on_update)
        router.callback_query.register(self._on_update)
        self.dispatcher.include_router(router)

    async def _on_update(self, _: TelegramObject, event_update: Update) -> None:
        dumped = event_update.model_dump(mode="json", exclude_none=True, by_alias=True)
        await self.handling.update(dumped, self.calls)

    async def start(self) -> BotUser:
        me = await self.bot.me()
        return BotUser(me.id, me.username)

    async def set_commands(self, menu: Menu, language: str | None) -> None:
        commands = [BotCommand(command=name, description=text) for name, text in menu]
        await self.bot.set_my_commands(commands, language_code=language)

    async def set_webhook(self, url: str, secret: str, updates: list[str]) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=updates)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def fetch(self, offset: int | None, wait: int) -> Sequence[Any]:
        return await self.bot.get_updates(
            offset=offset,
            timeout=wait,
            allowed_updates=list(UPDATES),
            request_timeout=wait + 10,
        )

    async def process(self, update: Any) -> None:
        await self.dispatcher.feed_update(self.bot, update)

    async def process_json(self, body: JSON) -> None:
        await self.process(Update.model_validate(body, context={"bot": self.bot}))

    async def close(self) -> None:
        await self.bot.session.close()

"""Outbox messages sent through the Bot API, and Telegram's errors in the sender's terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from bot.channels.telegram.inbound import CHANNEL
from bot.delivery.errors import Moved, Rejected, RetryAfter, Transient, Unreachable
from bot.store.media import MediaCache
from bot.store.outbox import Button, OutboundMessage


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button a row: labels stay whole on a narrow phone screen."""
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=b.label, callback_data=b.payload)] for b in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramDelivery:
    def __init__(
        self, bot: Bot, media: MediaCache, curriculum: Path, clock: Callable[[], datetime]
    ) -> None:
        self.bot = bot
        self.media = media
        self.curriculum = curriculum
        self.clock = clock

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    async def deliver(self, message: OutboundMessage) -> str | None:
        try:
            return await self._deliver(message)
        except TelegramRetryAfter as error:
            raise RetryAfter(error.retry_after) from error
        except TelegramForbiddenError as error:
            raise Unreachable(error.message) from error
        except TelegramMigrateToChat as error:
            raise Moved(str(error.migrate_to_chat_id)) from error
        except (TelegramServerError, TelegramNetworkError, TelegramNotFound, TimeoutError) as error:
            # 404 is about the request (a wrong API base or method), never about the person.
            raise Transient(type(error).__name__) from error
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                raise Unreachable(error.message) from error
            raise Rejected(error.message) from error

    async def _deliver(self, message: OutboundMessage) -> str | None:
        markup = keyboard(message.buttons)
        if message.edit_message_id is not None:
            edited = await self._edit(message, markup)
            if edited is not None:
                return edited
        if message.media is not None and message.media.get("kind") == "copy":
            # A learner's photo or voice note passed on to their volunteer, as Telegram holds it.
            await self.bot.copy_message(
                int(message.chat_id),
                int(message.media["from_chat"]),
                int(message.media["message_id"]),
            )
            message = replace(message, media=None)
        if message.media is not None:
            return await self._send_media(message, markup)
        reply = None
        if message.reply_to_message_id is not None:
            reply = ReplyParameters(
                message_id=int(message.reply_to_message_id), allow_sending_without_reply=True
            )
        sent = await self.bot.send_message(
            chat_id=int(message.chat_id),
            text=message.text,
            reply_markup=markup,
            reply_parameters=reply,
        )
        return str(sent.message_id)

    async def _edit(
        self, message: OutboundMessage, markup: InlineKeyboardMarkup | None
    ) -> str | None:
        """Change the pressed message in place; None when it is gone and a new one is needed."""
        assert message.edit_message_id is not None
        try:
            await self.bot.edit_message_text(
                text=message.text,
                chat_id=int(message.chat_id),
                message_id=int(message.edit_message_id),
                reply_markup=markup,
            )
        except TelegramBadRequest as error:
            reason = error.message.lower()
            if "not modified" in reason:
                return message.edit_message_id
            if "not found" in reason or "can't be edited" in reason or "no text" in reason:
                return None
            raise
        return message.edit_message_id

    async def _send_media(
        self, message: OutboundMessage, markup: InlineKeyboardMarkup | None
    ) -> str | None:
        """A lesson image or sound with the text as its caption; each file is uploaded once."""
        assert message.media is not None
        path, size, kind = message.media["path"], message.media["size"], message.media["kind"]
        known = await self.media.file_id(CHANNEL.name, path, size)
        upload = FSInputFile(self.curriculum / path)
        chat, caption = int(message.chat_id), message.text or None
        send: Callable[..., Awaitable[Message]]
        if kind == "image":
            send, field = self.bot.send_photo, "photo"
        elif path.endswith(".ogg"):
            send, field = self.bot.send_voice, "voice"
        else:
            send, field = self.bot.send_audio, "audio"
        try:
            sent = await send(chat, known or upload, caption=caption, reply_markup=markup)
        except TelegramBadRequest as error:
            # A remembered id another bot (token) made, or one Telegram forgot: upload again.
            if known is None or "file" not in error.message.lower():
                raise
            known, sent = None, await send(chat, upload, caption=caption, reply_markup=markup)
        if known is None:
            file_id = _file_id(sent, field)
            if file_id is not None:
                await self.media.remember(CHANNEL.name, path, size, file_id, self.clock())
        return str(sent.message_id)


def _file_id(message: Message, field: str) -> str | None:
    if field == "photo":
        return message.photo[-1].file_id if message.photo else None
    attachment = getattr(message, field)
    return attachment.file_id if attachment is not None else None

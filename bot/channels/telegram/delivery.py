"""Outbox messages sent through a runtime's bot, and its failures in the sender's terms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.channels.telegram.api import (
    ApiFailure,
    BotCalls,
    Keyboard,
    edit_impossible,
    edit_unchanged,
    file_forgotten,
    keyboard_of,
    outcome,
)
from bot.channels.telegram.inbound import CHANNEL
from bot.store.media import MediaCache
from bot.store.outbox import OutboundMessage


class TelegramDelivery:
    def __init__(
        self, bot: BotCalls, media: MediaCache, curriculum: Path, clock: Callable[[], datetime]
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
        except ApiFailure as failure:
            raise outcome(failure) from failure

    async def _deliver(self, message: OutboundMessage) -> str | None:
        keyboard = keyboard_of(message.buttons)
        if message.edit_message_id is not None:
            edited = await self._edit(message, keyboard)
            if edited is not None:
                return edited
        if message.media is not None and message.media.get("kind") == "copy":
            # A learner's photo or voice note passed on to their volunteer, as Telegram holds it.
            await self.bot.copy(
                int(message.chat_id),
                int(message.media["from_chat"]),
                int(message.media["message_id"]),
            )
            message = replace(message, media=None)
        if message.media is not None:
            return await self._send_media(message, keyboard)
        reply = message.reply_to_message_id
        sent = await self.bot.send_text(
            int(message.chat_id), message.text, keyboard, int(reply) if reply else None
        )
        return str(sent)

    async def _edit(self, message: OutboundMessage, keyboard: Keyboard) -> str | None:
        """Change the pressed message in place; None when it is gone and a new one is needed."""
        assert message.edit_message_id is not None
        try:
            await self.bot.edit_text(
                int(message.chat_id), int(message.edit_message_id), message.text, keyboard
            )
        except ApiFailure as failure:
            if edit_unchanged(failure):
                return message.edit_message_id
            if edit_impossible(failure):
                return None
            raise
        return message.edit_message_id

    async def _send_media(self, message: OutboundMessage, keyboard: Keyboard) -> str | None:
        """A lesson image or sound with the text as its caption; each file is uploaded once."""
        assert message.media is not None
        path, size, kind = message.media["path"], message.media["size"], message.media["kind"]
        known = await self.media.file_id(CHANNEL.name, path, size)
        upload = self.curriculum / path
        chat, caption = int(message.chat_id), message.text or None
        field = "photo" if kind == "image" else "voice" if path.endswith(".ogg") else "audio"
        try:
            sent, file_id, kept = await self.bot.send_media(
                field, chat, known or upload, caption, keyboard
            )
        except ApiFailure as failure:
            if known is None or not file_forgotten(failure):
                raise
            known = None
            sent, file_id, kept = await self.bot.send_media(field, chat, upload, caption, keyboard)
        if known is None and file_id is not None:
            await self.media.remember(CHANNEL.name, path, size, file_id, self.clock(), kept)
        return str(sent)

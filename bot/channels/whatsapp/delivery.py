"""Outbox messages sent through pywa's async client, and its failures in the sender's terms.

Choices go as reply buttons (3 or fewer) or a list message (4 to 10), with the full numbered
options in the message body, since a button's title holds only 20 characters and a row's
24; typing the number works as everywhere. A body longer than an interactive message takes
(1024 characters) goes first as plain text. Lesson media are uploaded once and sent again by
media id; WhatsApp forgets ids after 30 days, so a refused id is uploaded again.

Outside the 24-hour window nothing goes as free text: a reminder goes as its template (kept
in the row's ``media``), any other message is held until the learner writes, and the learner
gets the "a message is waiting" template once. A message WhatsApp refuses with 131047 (the
window closed while the coach thought it open) goes as its template, or fails clearly.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from pywa.types.callback import Button as WaButton
from pywa.types.callback import Section, SectionList, SectionRow
from pywa.types.templates import TemplateLanguage
from pywa_async.client import WhatsApp
from pywa_async.errors import WhatsAppError

from bot.channels.whatsapp.errors import (
    TEMPLATE_UNUSABLE,
    THROUGHPUT,
    WINDOW_CLOSED,
    media_forgotten,
    outcome,
)
from bot.channels.whatsapp.fitting import shorten
from bot.channels.whatsapp.inbound import CHANNEL
from bot.channels.whatsapp.templates import (
    MESSAGE_WAITING,
    components,
    sent_template,
    template_language,
)
from bot.channels.whatsapp.window import ConversationWindow
from bot.delivery.errors import Held, Rejected, Transient
from bot.delivery.held import HeldMessages
from bot.store.media import MediaCache
from bot.store.outbox import Button, OutboundMessage

log = logging.getLogger(__name__)

INTERACTIVE_BODY = 1024
CAPTION = 1024
BUTTON_TITLE = 20
ROW_TITLE = 24
ROW_DESCRIPTION = 72
REPLY_BUTTONS = 3


def reply_buttons(buttons: tuple[Button, ...]) -> list[WaButton]:
    return [WaButton(shorten(b.label, BUTTON_TITLE), b.payload) for b in buttons]


def list_rows(buttons: tuple[Button, ...]) -> SectionList:
    """A list message: each row's title shortened, its description the label's rest."""
    rows = []
    for button in buttons:
        title = shorten(button.label, ROW_TITLE)
        rest = None if title == button.label else shorten(button.label, ROW_DESCRIPTION)
        rows.append(SectionRow(title, button.payload, rest))
    label = f"1–{len(buttons)}"  # the numbers to choose from: the same in every language
    return SectionList(label, [Section(label, rows)])


def lesson_media(message: OutboundMessage) -> bool:
    return message.media is not None and "path" in message.media


class WhatsAppDelivery:
    capabilities = CHANNEL  # the sender keeps its pair rate, and the number's throughput:

    def __init__(
        self,
        client: WhatsApp,
        media: MediaCache,
        curriculum: Path,
        clock: Callable[[], datetime],
        *,
        fallback_language: str = "en",
        per_second: int = THROUGHPUT,
    ) -> None:
        self.per_second = per_second
        self.client = client
        self.media = media
        self.curriculum = curriculum
        self.clock = clock
        self.fallback_language = fallback_language
        self.window = ConversationWindow(media.store, lambda: self.clock())
        self.held = HeldMessages(media.store)

    def is_group(self, chat_id: str) -> bool:
        return False

    async def deliver(self, message: OutboundMessage) -> str | None:
        try:
            return await self._deliver_in_window(message)
        except WhatsAppError as error:
            raise outcome(error) from error
        except httpx.HTTPError as error:
            raise Transient(type(error).__name__) from error

    async def _deliver_in_window(self, message: OutboundMessage) -> str | None:
        template = (message.media or {}).get("template")
        if not await self.window.is_open(message.chat_id):
            if template is not None:
                return await self._send_template(message, template)
            await self._hold(message)
        try:
            return await self._deliver(message)
        except WhatsAppError as error:
            if error.code != WINDOW_CLOSED or template is None:
                raise
        log.info("message %d refused, window closed: sent as its template", message.id)
        return await self._send_template(message, template)

    async def _send_template(self, message: OutboundMessage, kept: dict[str, object]) -> str:
        try:
            sent = await self.client.send_template(
                message.chat_id,
                name=str(kept["name"]),
                language=TemplateLanguage(str(kept["language"])),
                params=components(kept),
            )
        except WhatsAppError as error:
            if error.code in TEMPLATE_UNUSABLE:
                log.warning(
                    "whatsapp template %s (%s) is not approved: message %d waits for the "
                    "learner's next message; see `coach whatsapp templates`",
                    kept["name"],
                    kept["language"],
                    message.id,
                )
                raise Held(f"whatsapp {error.code}: template not approved") from error
            raise
        return str(sent.id)

    async def _hold(self, message: OutboundMessage) -> None:
        """Keep the message until the learner writes; tell them once that one waits."""
        if not await self.held.any(CHANNEL.name, message.chat_id):
            language = template_language(message.language, self.fallback_language)
            waiting = sent_template(MESSAGE_WAITING, language, [])
            try:
                await self._send_template(message, waiting)
            except Held:
                pass  # the waiting template is not approved: the operator was told
            except WhatsAppError as error:
                if not isinstance(outcome(error), Rejected):  # unreachable, or try again later
                    raise
                log.warning("message %d: waiting template refused (%s)", message.id, error.code)
        raise Held("whatsapp: 24-hour window closed; waits for the learner's next message")

    async def _deliver(self, message: OutboundMessage) -> str | None:
        text, buttons = message.text, message.buttons
        if lesson_media(message):
            caption = text if text and not buttons and len(text) <= CAPTION else None
            sent = await self._send_media(message, caption)
            if caption is not None or not text:
                return sent
        if not buttons:
            return await self._send_text(message.chat_id, text, message.reply_to_message_id)
        options = "\n".join(button.label for button in buttons)
        body = f"{text}\n\n{options}" if text else options
        if len(body) > INTERACTIVE_BODY:
            await self._send_text(message.chat_id, text, message.reply_to_message_id)
            body = options
        if len(body) > INTERACTIVE_BODY:  # ten very long options: numbered text only
            return await self._send_text(message.chat_id, body, None)
        choices = reply_buttons(buttons) if len(buttons) <= REPLY_BUTTONS else list_rows(buttons)
        tapped = await self.client.send_message(message.chat_id, body, buttons=choices)
        return str(tapped.id)

    async def _send_text(self, chat_id: str, text: str, reply_to: str | None) -> str:
        sent = await self.client.send_message(chat_id, text, reply_to_message_id=reply_to)
        return str(sent.id)

    async def _send_media(self, message: OutboundMessage, caption: str | None) -> str:
        """A lesson image or sound; each file is uploaded once and sent by its media id."""
        assert message.media is not None
        path, size = str(message.media["path"]), int(message.media["size"])
        known = await self.media.file_id(CHANNEL.name, path, size)
        media_id = known or await self._upload(path, size)
        try:
            return await self._send_media_id(message, media_id, caption)
        except WhatsAppError as error:
            if known is None or not media_forgotten(error):
                raise
        return await self._send_media_id(message, await self._upload(path, size), caption)

    async def _send_media_id(
        self, message: OutboundMessage, media_id: str, caption: str | None
    ) -> str:
        assert message.media is not None
        if message.media["kind"] == "image":
            sent = await self.client.send_image(message.chat_id, media_id, caption=caption)
        else:
            voice = str(message.media["path"]).endswith(".ogg")
            sent = await self.client.send_audio(message.chat_id, media_id, is_voice=voice)
        return sent.id

    async def _upload(self, path: str, size: int) -> str:
        upload = self.curriculum / path
        mime = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        uploaded = await self.client.upload_media(
            upload.read_bytes(), mime_type=mime, filename=upload.name
        )
        kept = await self._kept_size(uploaded.id)
        await self.media.remember(CHANNEL.name, path, size, uploaded.id, self.clock(), kept)
        return uploaded.id

    async def _kept_size(self, media_id: str) -> int | None:
        """The size of the file as Meta keeps it after processing the upload: what a learner's
        phone downloads, counted in the data a lesson costs. Unknown if Meta does not say."""
        try:
            found = await self.client.get_media_url(media_id)
        except (WhatsAppError, httpx.HTTPError) as error:
            log.info("media %s: no size from Meta (%s)", media_id, type(error).__name__)
            return None
        return found.file_size or None

"""Bot API methods that put messages in a chat: send, reply with media, chat actions."""

from __future__ import annotations

import copy
import struct
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any

from .telegram_flood import FloodControl
from .telegram_objects import JSON, FileRecord, MediaSource, SentMessage
from .telegram_protocol import ApiError, Upload, bad_request, optional_json, required
from .telegram_state import ChatLog, TelegramState
from .telegram_text import EntityParseError, rendered

Handler = Callable[[JSON], Awaitable[Any]]

MEDIA_KINDS = {"photo": "image/jpeg", "voice": "audio/ogg", "audio": "audio/mpeg", "document": ""}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def inline_markup(markup: JSON | None) -> JSON | None:
    """The part of reply_markup a Message carries back: inline keyboards only, nulls dropped."""
    if not markup or "inline_keyboard" not in markup:
        return None
    rows = [
        [{k: v for k, v in button.items() if v is not None} for button in row]
        for row in markup["inline_keyboard"]
    ]
    for button in (b for row in rows for b in row):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def shown_text(
    text: str, parse_mode: str | None, limit: int, too_long: str
) -> tuple[str, list[JSON]]:
    try:
        plain, entities = rendered(text, parse_mode)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from error
    if len(plain) > limit:
        raise bad_request(too_long)
    return plain, entities


def _image_size(data: bytes | None) -> tuple[int, int]:
    if data and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 600


class SendingMethods:
    def __init__(self, state: TelegramState, flood: FloodControl, strict_chats: bool) -> None:
        self.state = state
        self.flood = flood
        self.strict_chats = strict_chats

    def handlers(self) -> dict[str, Handler]:
        media: dict[str, Handler] = {
            f"send{kind.title()}": self._media_sender(kind) for kind in MEDIA_KINDS
        }
        return {
            "sendMessage": self.send_message,
            "sendChatAction": self.send_chat_action,
            "copyMessage": self.copy_message,
            **media,
        }

    def target(self, params: JSON) -> ChatLog:
        """The chat a call addresses, refused as Telegram would for a missing or closed chat."""
        chat_id = required(params, "chat_id")
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@")
            found = [
                log for log in self.state.chats.values() if log.chat.get("username") == username
            ]
            if not found:
                raise bad_request("chat not found")
            chat_id = found[0].chat["id"]
        if self.strict_chats and chat_id not in self.state.known_chats:
            raise bad_request("chat not found")
        if chat_id in self.state.forbidden:
            raise ApiError(403, self.state.forbidden[chat_id])
        if chat_id in self.state.migrated:
            upgraded = "Bad Request: group chat was upgraded to a supergroup chat"
            raise ApiError(400, upgraded, migrate_to_chat_id=self.state.migrated[chat_id])
        return self.state.chat(chat_id)

    def _admit(self, log: ChatLog) -> None:
        wait = self.flood.retry_after(log.chat["id"])
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _reply_to(self, params: JSON, log: ChatLog) -> JSON:
        reply = optional_json(params, "reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return {}
        if message_id in log.messages:
            replied = {k: v for k, v in log.messages[message_id].items() if k != "reply_to_message"}
            return {"reply_to_message": copy.deepcopy(replied)}
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return {}
        raise bad_request("message to be replied not found")

    def _deliver(self, params: JSON, method: str, kind: str, content: JSON, **record: Any) -> JSON:
        log = self.target(params)
        reply_to = self._reply_to(params, log)
        markup = optional_json(params, "reply_markup")
        inline = inline_markup(markup)
        self._admit(log)
        message: JSON = {
            "message_id": log.next_message_id(),
            "from": self.state.bot_user,
            "chat": log.chat,
            "date": self.state.now(),
            **reply_to,
            **content,
        }
        if inline:
            message["reply_markup"] = inline
        log.messages[message["message_id"]] = message
        log.sent.append(
            SentMessage(
                chat_id=log.chat["id"],
                message_id=message["message_id"],
                method=method,
                kind=kind,
                message=message,
                reply_markup=markup,
                parse_mode=params.get("parse_mode") or None,
                **record,
            )
        )
        self.state.changed.fire()
        return copy.deepcopy(message)

    async def copy_message(self, params: JSON) -> JSON:
        """A message copied from another chat, as Telegram does: the content, not the sender."""
        source = self.state.chat(required(params, "from_chat_id"))
        original = source.messages.get(required(params, "message_id"))
        if original is None:
            raise bad_request("message to copy not found")
        fields = (
            "text",
            "caption",
            "photo",
            "voice",
            "video_note",
            "document",
            "location",
            "contact",
        )
        content = {key: copy.deepcopy(original[key]) for key in fields if key in original}
        kind = next((key for key in fields[2:] if key in content), "text")
        sent = self._deliver(params, "copyMessage", kind, content)
        return {"message_id": sent["message_id"]}

    async def send_message(self, params: JSON) -> JSON:
        source = required(params, "text", "message text is empty")
        text, entities = shown_text(
            str(source), params.get("parse_mode"), 4096, "message is too long"
        )
        content: JSON = {"text": text, **({"entities": entities} if entities else {})}
        return self._deliver(params, "sendMessage", "text", content)

    def _media_sender(self, kind: str) -> Handler:
        async def send_media(params: JSON) -> JSON:
            self.target(params)
            record, source = self._media_file(params, kind)
            content: JSON = {kind: self._media_object(record, params)}
            caption = params.get("caption")
            if caption:
                text, entities = shown_text(
                    str(caption), params.get("parse_mode"), 1024, "message caption is too long"
                )
                content["caption"] = text
                if entities:
                    content["caption_entities"] = entities
            method = f"send{kind.title()}"
            return self._deliver(
                params, method, kind, content, file_id=record.file_id, source=source
            )

        return send_media

    def _media_file(self, params: JSON, kind: str) -> tuple[FileRecord, MediaSource]:
        value = required(params, kind, f"there is no {kind} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            suffix = PurePosixPath(value.filename).suffix
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = MEDIA_KINDS[kind] or "application/octet-stream"
            record = self.state.store_file(
                kind, value.data, file_name=value.filename, mime_type=mime, extension=suffix
            )
            return record, "upload"
        if not isinstance(value, str):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if value.startswith(("http://", "https://")):
            name = PurePosixPath(value).name
            return self.state.store_file(kind, None, file_name=name), "url"
        known = self.state.files.get(value)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if known.kind != kind:
            raise bad_request(f"can't use file of type {known.kind.title()} as {kind.title()}")
        return known, "file_id"

    @staticmethod
    def _media_object(record: FileRecord, params: JSON) -> Any:
        ids: JSON = {"file_id": record.file_id, "file_unique_id": record.file_unique_id}
        if record.data is not None:
            ids["file_size"] = record.size
        if record.kind == "photo":
            width, height = _image_size(record.data)
            return [{**ids, "width": width, "height": height}]
        if record.kind in ("voice", "audio"):
            ids["duration"] = params.get("duration") or 1
        if record.kind == "audio":
            ids.update({k: params[k] for k in ("title", "performer") if params.get(k)})
        if record.kind in ("audio", "document") and record.file_name:
            ids["file_name"] = record.file_name
        if record.mime_type:
            ids["mime_type"] = record.mime_type
        return ids

    async def send_chat_action(self, params: JSON) -> bool:
        self.target(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

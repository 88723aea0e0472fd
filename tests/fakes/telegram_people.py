"""What people do in their chats with the bot; each action queues the Update Telegram sends."""

from __future__ import annotations

import copy
import struct
import zlib
from typing import Any

from .telegram_objects import JSON, Chat, FakeGroup, FakeUser, SentMessage, inline_buttons
from .telegram_state import ChatLog, TelegramState
from .telegram_text import utf16_len


def _png(width: int, height: int) -> bytes:
    header = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + header + struct.pack(">I", zlib.crc32(header))
    return b"\x89PNG\r\n\x1a\n" + chunk


SAMPLE_PNG = _png(640, 480)
SAMPLE_OGG = b"OggS\x00\x02" + bytes(26)
SAMPLE_MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(12)
SAMPLE_PDF = b"%PDF-1.4\n% a sample document\n"
SAMPLE_WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14)


class TelegramPeople:
    """The learner's side of the chat: builders for people and groups, and their actions."""

    state: TelegramState

    def user(
        self, id: int, first_name: str, language_code: str = "en", username: str | None = None
    ) -> FakeUser:
        person = FakeUser(id, first_name, language_code, username)
        self.state.introduce(person)
        return person

    def group(self, id: int, title: str) -> FakeGroup:
        chat = FakeGroup(id, title)
        self.state.introduce(chat)
        return chat

    def _log(self, user: FakeUser, chat: Chat | None) -> ChatLog:
        where = chat or user
        if where.id not in self.state.known_chats:
            self.state.introduce(where)
        return self.state.chat(where.id)

    def _post(
        self, user: FakeUser, chat: Chat | None, content: JSON, reply_to: int | None = None
    ) -> JSON:
        log = self._log(user, chat)
        message: JSON = {
            "message_id": log.next_message_id(),
            "from": user.to_api(),
            "chat": log.chat,
            "date": self.state.now(),
        }
        if reply_to is not None:
            if reply_to not in log.messages:
                raise LookupError(f"no message {reply_to} in chat {log.chat['id']} to reply to")
            replied = {k: v for k, v in log.messages[reply_to].items() if k != "reply_to_message"}
            message["reply_to_message"] = copy.deepcopy(replied)
        message.update(content)
        log.messages[message["message_id"]] = message
        return self.state.queue_update("message", copy.deepcopy(message))

    def send_text(
        self,
        user: FakeUser,
        text: str,
        chat: Chat | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        return self._post(user, chat, {"text": text}, reply_to_message_id)

    def send_command(
        self,
        user: FakeUser,
        command: str,
        args: str | None = None,
        chat: Chat | None = None,
        mention: bool = False,
    ) -> JSON:
        """`/start`, `start payload` or ("/start", "payload"); mention adds @botusername."""
        name, _, inline_args = command.strip().partition(" ")
        name = "/" + name.lstrip("/")
        if mention:
            name += f"@{self.state.bot_user['username']}"
        rest = " ".join(part for part in (inline_args.strip(), args or "") if part)
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(name)}
        text = f"{name} {rest}" if rest else name
        return self._post(user, chat, {"text": text, "entities": [entity]})

    def _file(self, kind: str, data: bytes, **fields: Any) -> JSON:
        record = self.state.store_file(
            kind, data, file_name=fields.get("file_name"), mime_type=fields.get("mime_type")
        )
        media = {"file_id": record.file_id, "file_unique_id": record.file_unique_id}
        return {**media, "file_size": record.size, **fields}

    def send_photo(
        self,
        user: FakeUser,
        data: bytes = SAMPLE_PNG,
        caption: str | None = None,
        chat: Chat | None = None,
    ) -> JSON:
        width, height = struct.unpack(">II", data[16:24]) if data[:4] == b"\x89PNG" else (800, 600)
        photo = self._file("photo", data, width=width, height=height)
        return self._post(user, chat, {"photo": [photo], **_caption(caption)})

    def send_voice(
        self, user: FakeUser, data: bytes = SAMPLE_OGG, duration: int = 3, chat: Chat | None = None
    ) -> JSON:
        voice = self._file("voice", data, duration=duration, mime_type="audio/ogg")
        return self._post(user, chat, {"voice": voice})

    def send_video_note(
        self,
        user: FakeUser,
        data: bytes = SAMPLE_MP4,
        duration: int = 5,
        length: int = 240,
        chat: Chat | None = None,
    ) -> JSON:
        note = self._file("video_note", data, duration=duration, length=length)
        return self._post(user, chat, {"video_note": note})

    def send_location(
        self, user: FakeUser, latitude: float, longitude: float, chat: Chat | None = None
    ) -> JSON:
        return self._post(user, chat, {"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(
        self,
        user: FakeUser,
        phone_number: str,
        own: bool = True,
        first_name: str | None = None,
        chat: Chat | None = None,
    ) -> JSON:
        """Share a contact: the sender's own (with their user_id), or someone else's."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or "Contact"}
        if own:
            contact.update(first_name=first_name or user.first_name, user_id=user.id)
        return self._post(user, chat, {"contact": contact})

    def send_document(
        self,
        user: FakeUser,
        data: bytes = SAMPLE_PDF,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat: Chat | None = None,
    ) -> JSON:
        document = self._file("document", data, file_name=file_name, mime_type=mime_type)
        return self._post(user, chat, {"document": document, **_caption(caption)})

    def send_sticker(self, user: FakeUser, emoji: str = "👍", chat: Chat | None = None) -> JSON:
        sticker = self._file(
            "sticker",
            SAMPLE_WEBP,
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
            emoji=emoji,
        )
        return self._post(user, chat, {"sticker": sticker})

    def send_poll(
        self, user: FakeUser, question: str, options: list[str], chat: Chat | None = None
    ) -> JSON:
        poll = {
            "id": str(5_000_000_000 + self.state.last_update_id),
            "question": question,
            "options": [
                {"persistent_id": str(n), "text": option, "voter_count": 0}
                for n, option in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self._post(user, chat, {"poll": poll})

    def forward_text(
        self, user: FakeUser, text: str, origin: FakeUser | str, chat: Chat | None = None
    ) -> JSON:
        """Forward a text written by origin: a FakeUser, or a name when their privacy hides them."""
        when = self.state.now() - 3600
        if isinstance(origin, FakeUser):
            source = {"type": "user", "date": when, "sender_user": origin.to_api()}
        else:
            source = {"type": "hidden_user", "date": when, "sender_user_name": origin}
        return self._post(user, chat, {"text": text, "forward_origin": source})

    def edit_text(
        self, user: FakeUser, message: JSON | int, text: str, chat: Chat | None = None
    ) -> JSON:
        """Edit a text the person sent; message is its Update, Message or message_id."""
        log = self._log(user, chat)
        message_id = _message_id(message)
        original = log.messages.get(message_id)
        if original is None or original.get("from", {}).get("id") != user.id:
            raise LookupError(f"{user.first_name} sent no message {message_id} in this chat")
        original["text"] = text
        original.pop("entities", None)
        original["edit_date"] = self.state.now()
        return self.state.queue_update("edited_message", copy.deepcopy(original))

    def press(
        self, user: FakeUser, message: SentMessage | int, button: str, chat: Chat | None = None
    ) -> JSON:
        """Tap the inline button with this label (or callback_data) on a message the bot sent."""
        if isinstance(message, SentMessage):
            log, message_id = self.state.chat(message.chat_id), message.message_id
        else:
            log, message_id = self._log(user, chat), message
        current = log.messages.get(message_id)
        if current is None or log.sent_message(message_id) is None:
            raise LookupError(f"the bot has no message {message_id} here; see press_forged")
        buttons = [b for row in inline_buttons(current.get("reply_markup")) for b in row]
        found = next((b for b in buttons if b.text == button), None) or next(
            (b for b in buttons if b.callback_data == button), None
        )
        if found is None:
            labels = [b.text for b in buttons]
            raise LookupError(f"no button {button!r} on message {message_id}; it has {labels}")
        if found.callback_data is None:
            raise ValueError(f"button {button!r} opens a link; Telegram sends no update for it")
        return self._callback(user, log, copy.deepcopy(current), found.callback_data)

    def press_forged(
        self, user: FakeUser, message_id: int, data: str, chat: Chat | None = None
    ) -> JSON:
        """A callback a modified client could send: any data, on any message id."""
        log = self._log(user, chat)
        current = log.messages.get(message_id)
        message = copy.deepcopy(current) or {"chat": log.chat, "message_id": message_id, "date": 0}
        return self._callback(user, log, message, data)

    def _callback(self, user: FakeUser, log: ChatLog, message: JSON, data: str) -> JSON:
        query = {
            "id": self.state.new_callback_id(user.id, data),
            "from": user.to_api(),
            "message": message,
            "chat_instance": str(abs(log.chat["id"]) * 7 + 1),
            "data": data,
        }
        return self.state.queue_update("callback_query", query)


def _caption(caption: str | None) -> JSON:
    return {"caption": caption} if caption else {}


def _message_id(message: JSON | int) -> int:
    if isinstance(message, int):
        return message
    inner = message.get("message") or message.get("edited_message") or message
    return int(inner["message_id"])

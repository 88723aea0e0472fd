"""What the fake Telegram remembers: chats and their messages, files, pending updates."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from .telegram_objects import (
    JSON,
    AnsweredCallback,
    ApiCall,
    FakeGroup,
    FakeUser,
    FileRecord,
    PendingCallback,
    SentMessage,
    WebhookState,
    default_chat,
)

FILE_FOLDERS = {
    "photo": "photos",
    "voice": "voice",
    "audio": "music",
    "document": "documents",
    "video_note": "video_notes",
    "sticker": "stickers",
}


class Signal:
    """Wakes every waiter when something changed; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait_until(self, condition: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            waiter = loop.create_future()
            self._waiters.add(waiter)
            try:
                async with asyncio.timeout(remaining):  # wait_for could swallow a cancel (3.11)
                    await waiter
            except TimeoutError:
                return condition()
            finally:
                self._waiters.discard(waiter)
        return True


@dataclass
class ChatLog:
    """One chat: its object, message ids shared by both sides, current messages, bot sends."""

    chat: JSON
    last_message_id: int = 0
    messages: dict[int, JSON] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def sent_message(self, message_id: int) -> SentMessage | None:
        for message in self.sent:
            if message.message_id == message_id and not message.deleted:
                return message
        return None


@dataclass
class TelegramState:
    token: str
    bot_user: JSON
    wall: Callable[[], float]
    chats: dict[int, ChatLog] = field(default_factory=dict)
    known_chats: set[int] = field(default_factory=set)
    files: dict[str, FileRecord] = field(default_factory=dict)
    updates: list[JSON] = field(default_factory=list)
    last_update_id: int = 100_000_000
    callbacks: dict[str, PendingCallback] = field(default_factory=dict)
    answered_callbacks: list[AnsweredCallback] = field(default_factory=list)
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    webhook: WebhookState = field(default_factory=WebhookState)
    forbidden: dict[int, str] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)
    confirmed_below: int = 0  # the highest getUpdates offset: updates before it were handled
    never_delivered: set[int] = field(default_factory=set)  # of kinds the bot did not ask for
    calls: list[ApiCall] = field(default_factory=list)
    count_429: int = 0
    changed: Signal = field(default_factory=Signal)
    _file_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> int:
        return int(self.wall())

    def chat(self, chat_id: int) -> ChatLog:
        if chat_id not in self.chats:
            self.chats[chat_id] = ChatLog(default_chat(chat_id))
        return self.chats[chat_id]

    def introduce(self, chat: FakeUser | FakeGroup) -> None:
        self.chat(chat.id).chat = chat.chat()
        self.known_chats.add(chat.id)

    def queue_update(self, kind: str, payload: JSON) -> JSON:
        self.last_update_id += 1
        update = {"update_id": self.last_update_id, kind: payload}
        self.updates.append(update)
        self.changed.fire()
        return update

    def store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        extension: str = "",
    ) -> FileRecord:
        number = next(self._file_numbers)
        token = secrets.token_urlsafe(12)
        record = FileRecord(
            file_id=f"Fake{kind.title().replace('_', '')}{number}-{token}",
            file_unique_id=f"U{kind[:2]}{number}",
            kind=kind,
            file_path=f"{FILE_FOLDERS.get(kind, kind)}/file_{number}{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[record.file_id] = record
        return record

    def file_by_path(self, path: str) -> FileRecord | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    def new_callback_id(self, user_id: int, data: str | None) -> str:
        callback_id = str(4_000_000_000_000 + len(self.callbacks) + 1)
        self.callbacks[callback_id] = PendingCallback(callback_id, user_id, data)
        return callback_id

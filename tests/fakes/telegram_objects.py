"""The people, chats and records the fake Telegram server deals in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
MediaSource = Literal["upload", "file_id", "url"]

SUPERGROUP_BELOW = -1_000_000_000_000


@dataclass(frozen=True)
class FakeUser:
    """A person using Telegram; their private chat with the bot has the same id."""

    id: int
    first_name: str
    language_code: str = "en"
    username: str | None = None
    last_name: str | None = None

    def to_api(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> JSON:
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class FakeGroup:
    """A group chat the bot is a member of."""

    id: int
    title: str

    def __post_init__(self) -> None:
        if self.id >= 0:
            raise ValueError(f"a group chat id is negative, got {self.id}")

    @property
    def type(self) -> str:
        return "supergroup" if self.id <= SUPERGROUP_BELOW else "group"

    def chat(self) -> JSON:
        return {"id": self.id, "type": self.type, "title": self.title}


Chat = FakeUser | FakeGroup


def chat_id_of(chat: int | Chat) -> int:
    return chat if isinstance(chat, int) else chat.id


def default_chat(chat_id: int) -> JSON:
    """The chat object for an id no test introduced: private if positive, as Telegram does."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    kind = "supergroup" if chat_id <= SUPERGROUP_BELOW else "group"
    return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}


@dataclass(frozen=True)
class Button:
    """One inline button as the learner sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


def inline_buttons(reply_markup: JSON | None) -> list[list[Button]]:
    rows = (reply_markup or {}).get("inline_keyboard") or []
    return [
        [Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row]
        for row in rows
    ]


def keyboard_labels(reply_markup: JSON | None) -> list[list[str]]:
    rows = (reply_markup or {}).get("keyboard") or []
    return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]


@dataclass
class Edit:
    """One successful edit of a bot message: the method and the content it set."""

    method: str
    text: str | None
    reply_markup: JSON | None


@dataclass
class SentMessage:
    """A message the bot sent, with its edits applied (`edits` keeps the history)."""

    chat_id: int
    message_id: int
    method: str
    kind: str
    message: JSON
    reply_markup: JSON | None = None
    parse_mode: str | None = None
    file_id: str | None = None
    source: MediaSource | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """The text, or the caption of a media message, as the learner reads it."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def buttons(self) -> list[list[Button]]:
        return inline_buttons(self.reply_markup)

    @property
    def labels(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b.callback_data for row in self.buttons for b in row if b.callback_data]

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of a reply keyboard (the buttons under the typing field)."""
        return keyboard_labels(self.reply_markup)

    @property
    def uploaded(self) -> bool:
        return self.source == "upload"


@dataclass
class ApiCall:
    """One request the bot made, as the server understood it."""

    method: str
    params: JSON
    status: int
    response: JSON
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class FileRecord:
    """A file Telegram keeps: what the bot uploaded or a learner sent."""

    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    data: bytes | None
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.data or b"")


@dataclass
class PendingCallback:
    id: str
    user_id: int
    data: str | None
    answered: bool = False


@dataclass(frozen=True)
class AnsweredCallback:
    id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    drop_pending_updates: bool = False

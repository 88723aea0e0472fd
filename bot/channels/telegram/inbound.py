"""Telegram updates, as the Bot API's JSON, turned into core events.

Both runtimes hand updates over as the Bot API's JSON (aiogram's ``model_dump``,
python-telegram-bot's ``to_dict``, or a webhook's body), so this is the one translator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.channel import Buttons, Capabilities
from bot.core.commands import typed_event
from bot.core.events import Inbound, InboundKind, Sender

JSON = dict[str, Any]
CHANNEL = Capabilities(
    "telegram",
    Buttons.INLINE,
    max_buttons=100,
    max_text=4096,
    sends=frozenset({"image", "audio", "copy"}),
    can_edit=True,
    groups=True,
    chat_per_second=1.0,
    group_per_minute=20,
    media_overhead=500,  # the inline preview and the download's framing, about
)
GROUP_TYPES = ("group", "supergroup")
UPDATES = ("message", "callback_query")  # the kinds of update the coach asks Telegram for
KINDS = (
    ("photo", InboundKind.PHOTO),
    ("voice", InboundKind.VOICE),
    ("video_note", InboundKind.VIDEO_NOTE),
    ("location", InboundKind.LOCATION),
    ("contact", InboundKind.CONTACT),
    ("document", InboundKind.DOCUMENT),
    ("sticker", InboundKind.STICKER),
)


@dataclass(frozen=True)
class BotUser:
    """The coach's own Telegram account, as ``getMe`` describes it."""

    id: int
    username: str | None = None


def sender_of(chat: JSON, user: JSON) -> Sender:
    return Sender(
        CHANNEL.name,
        str(chat["id"]),
        str(user["id"]),
        first_name=user.get("first_name"),
        language_hint=user.get("language_code"),
        group=str(chat.get("type")) in GROUP_TYPES,
    )


def is_private(message: JSON) -> bool:
    return str(message["chat"].get("type")) == "private"


def message_kind(message: JSON) -> InboundKind:
    """What the learner sent; a photo sent as a file is a document, as Telegram shows it."""
    for field, kind in KINDS:
        if message.get(field) is not None:
            return kind
    return InboundKind.TEXT if message.get("text") is not None else InboundKind.OTHER


def message_event(message: JSON, me: BotUser, at: datetime) -> Inbound | None:
    """The core event for a message; None for a command meant for another bot."""
    replied = message.get("reply_to_message") or {}
    to_coach = (replied.get("from") or {}).get("id") == me.id
    text = message.get("text") or message.get("caption")
    mentioned = bool(me.username and text and f"@{me.username}".lower() in text.lower())
    sender = sender_of(message["chat"], message["from"])
    key = f"tg:m:{message['chat']['id']}:{message['message_id']}"
    fields: JSON = {
        "forwarded": message.get("forward_origin") is not None,
        "message_id": str(message["message_id"]),
        "addressed": to_coach or mentioned,
        "reply_to_message_id": str(replied["message_id"]) if to_coach else None,
    }
    if message.get("text") is not None:
        return typed_event(sender, key, message["text"], at, own_name=me.username, **fields)
    return Inbound(
        sender, message_kind(message), at, key, text=text, media_ref=media_ref(message), **fields
    )


def media_ref(message: JSON) -> str | None:
    """The file id of a photo (its largest size) or a voice note, for the desk to fetch."""
    if message.get("photo"):
        return str(message["photo"][-1]["file_id"])
    if message.get("voice"):
        return str(message["voice"]["file_id"])
    return None


def button_event(query: JSON, at: datetime) -> Inbound | None:
    """The core event for a button press; None when Telegram says nothing of its chat."""
    message = query.get("message")
    if message is None:
        return None
    # A message older than 48 hours arrives as an "inaccessible message" (date 0): not editable.
    pressed = str(message["message_id"]) if message.get("date") else None
    return Inbound(
        sender_of(message["chat"], query["from"]),
        InboundKind.BUTTON,
        at,
        f"tg:c:{query['id']}",
        payload=query.get("data") or "",
        pressed_message_id=pressed,
        addressed=True,
    )

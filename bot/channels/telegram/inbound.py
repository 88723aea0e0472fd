"""Telegram messages and button presses turned into core events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from aiogram.types import CallbackQuery, Chat, Message, User

from bot.core.channel import Buttons, Capabilities
from bot.core.commands import parse_command
from bot.core.events import Inbound, InboundKind, Sender

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
)
GROUP_TYPES = ("group", "supergroup")


def sender_of(chat: Chat, user: User) -> Sender:
    return Sender(
        CHANNEL.name,
        str(chat.id),
        str(user.id),
        first_name=user.first_name,
        language_hint=user.language_code,
        group=chat.type in GROUP_TYPES,
    )


def message_kind(message: Message) -> InboundKind:
    """What the learner sent; a photo sent as a file is a document, as Telegram shows it."""
    for attribute, kind in (
        ("photo", InboundKind.PHOTO),
        ("voice", InboundKind.VOICE),
        ("video_note", InboundKind.VIDEO_NOTE),
        ("location", InboundKind.LOCATION),
        ("contact", InboundKind.CONTACT),
        ("document", InboundKind.DOCUMENT),
        ("sticker", InboundKind.STICKER),
    ):
        if getattr(message, attribute) is not None:
            return kind
    return InboundKind.TEXT if message.text is not None else InboundKind.OTHER


def message_event(message: Message, user: User, bot_user: User, at: datetime) -> Inbound | None:
    """The core event for a message; None for a command meant for another bot."""
    replied = message.reply_to_message
    to_coach = replied is not None and replied.from_user is not None
    to_coach = to_coach and replied.from_user.id == bot_user.id  # type: ignore[union-attr]
    text = message.text or message.caption
    mentioned = bool(bot_user.username and text and f"@{bot_user.username}".lower() in text.lower())
    event = Inbound(
        sender_of(message.chat, user),
        message_kind(message),
        at,
        f"tg:m:{message.chat.id}:{message.message_id}",
        text=text,
        forwarded=message.forward_origin is not None,
        message_id=str(message.message_id),
        addressed=to_coach or mentioned,
        reply_to_message_id=str(replied.message_id) if to_coach and replied else None,
    )
    command = parse_command(message.text or "")
    if command is None:
        return event
    if not command.meant_for(bot_user.username):
        return None
    return replace(event, kind=InboundKind.COMMAND, command=command.name, argument=command.argument)


def button_event(query: CallbackQuery, at: datetime) -> Inbound | None:
    """The core event for a button press; None when Telegram says nothing of its chat."""
    message = query.message
    if message is None:
        return None
    sender = sender_of(message.chat, query.from_user)
    # A message older than 48 hours arrives as an "inaccessible message" (date 0): not editable.
    pressed = str(message.message_id) if isinstance(message, Message) else None
    return Inbound(
        sender,
        InboundKind.BUTTON,
        at,
        f"tg:c:{query.id}",
        payload=query.data or "",
        pressed_message_id=pressed,
        addressed=True,
    )

"""What arrives from a learner, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class InboundKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    PHOTO = "photo"
    VOICE = "voice"
    VIDEO_NOTE = "video_note"
    LOCATION = "location"
    CONTACT = "contact"
    DOCUMENT = "document"
    STICKER = "sticker"
    OTHER = "other"


@dataclass(frozen=True)
class Sender:
    """Who wrote: a channel, a chat and a person in it."""

    channel: str
    chat_id: str
    user_id: str
    first_name: str | None = None
    language_hint: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One learner action, turned into plain data by a channel.

    ``key`` is unique per platform update, so a redelivery is recognised.
    ``reply_to_tag`` is the tag of the coach message the learner replied to, if any.
    """

    sender: Sender
    kind: InboundKind
    at: datetime
    key: str
    text: str | None = None
    payload: str | None = None
    command: str | None = None
    argument: str | None = None
    reply_to_tag: str | None = None
    forwarded: bool = False

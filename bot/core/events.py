"""What arrives from a learner, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    group: bool = False


@dataclass(frozen=True)
class Inbound:
    """One learner action, turned into plain data by a channel.

    ``key`` is unique per platform update, so a redelivery is recognised.
    ``reply_to_message_id`` is the platform's id of the coach message the learner replied
    to; the service finds its ``reply_to_tag`` inside the handling transaction.
    ``message_id`` is the platform's id of the learner's message; ``pressed_message_id``
    the id of the coach message whose button was pressed (so it can be edited in place).
    ``addressed``: in a group, the learner replied to the coach or mentioned it.
    ``media_ref``: the platform's own reference to the learner's photo or voice note, with
    which a volunteer's desk can fetch it later (the coach keeps no copy). ``attachment``:
    the photo or voice note itself where the coach is the platform (the web chat); it is kept
    only when it goes to a volunteer, with the conversation.
    """

    sender: Sender
    kind: InboundKind
    at: datetime
    key: str
    text: str | None = None
    payload: str | None = None
    command: str | None = None
    argument: str | None = None
    reply_to_message_id: str | None = None
    reply_to_tag: str | None = None
    forwarded: bool = False
    message_id: str | None = None
    pressed_message_id: str | None = None
    addressed: bool = False
    media_ref: str | None = None  # the platform's id of a photo or voice note, to fetch it
    attachment: bytes | None = field(default=None, repr=False)  # a web chat file, see below

    @property
    def chatter(self) -> bool:
        """Group talk not meant for the coach: it stays silent unless it understood."""
        meant = self.addressed or self.kind in (InboundKind.COMMAND, InboundKind.BUTTON)
        return self.sender.group and not meant

"""What a channel can do, as data, and where one message goes: the renderer adapts to both."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.data_cost import MESSAGE_BYTES
from bot.core.events import Inbound, InboundKind


class Buttons(StrEnum):
    INLINE = "inline"  # buttons under a message: Telegram, WhatsApp, the web chat
    REPLY_KEYBOARD = "reply_keyboard"  # a keyboard that replaces the phone's own
    NONE = "none"  # text only: the options are numbered lines of the message


@dataclass(frozen=True)
class Capabilities:
    """A channel described as data. Options are always numbered, so typing works everywhere.

    ``pull``: the client fetches its messages (the web chat), so they count as sent at once.
    ``max_buttons`` / ``max_label``: more options than that are offered as numbered lines;
    longer labels are shortened on the button (the numbered line keeps them whole).
    ``sends``: the media kinds it can send (``image``, ``audio``, ``copy`` of a learner's
    own message); other media are left out and the text still goes.
    ``message_bytes`` / ``media_overhead``: about what the learner's phone downloads around
    one message and besides each file's own bytes, for the data a lesson is said to cost;
    ``downloads``: the media kinds that reach the phone as files (by default all it sends;
    a bridged group gets a link or a few words instead).
    ``webp``: it shows WebP pictures, so it gets the one made for phones from each lesson
    picture (WhatsApp takes only JPEG and PNG; Telegram re-encodes photos anyway).
    """

    name: str
    buttons: Buttons = Buttons.NONE
    max_buttons: int | None = None
    max_label: int | None = None
    max_text: int | None = None
    receives: frozenset[InboundKind] = frozenset(InboundKind)
    sends: frozenset[str] = frozenset()
    can_edit: bool = False
    groups: bool = False
    pull: bool = False
    chat_per_second: float | None = None
    group_per_minute: int | None = None
    message_bytes: int = MESSAGE_BYTES
    media_overhead: int = 0
    downloads: frozenset[str] | None = None
    webp: bool = False

    def fits_buttons(self, count: int) -> bool:
        if self.buttons is Buttons.NONE or count == 0:
            return False
        return self.max_buttons is None or count <= self.max_buttons


@dataclass(frozen=True)
class Destination:
    """Where the replies to one event, or one message the coach starts, go.

    ``key`` is unique for that event or message; each outbox row's dedupe key derives from
    it. In a group, the first reply names the person and answers their message.
    """

    channel: str
    chat_id: str
    key: str
    learner_id: int | None = None
    group: bool = False
    first_name: str | None = None
    answers_message_id: str | None = None
    pressed_message_id: str | None = None

    @classmethod
    def of(cls, event: Inbound, learner_id: int | None) -> Destination:
        """Back to whoever sent ``event``."""
        sender = event.sender
        return cls(
            sender.channel,
            sender.chat_id,
            event.key,
            learner_id,
            group=sender.group,
            first_name=sender.first_name,
            answers_message_id=event.message_id,
            pressed_message_id=event.pressed_message_id,
        )

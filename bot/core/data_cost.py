"""What a lesson costs the learner in data, counted as their channel really moves it.

A lesson's texts travel inside chat messages, each wrapped in the channel's protocol; its
pictures and sounds travel as files, and a channel may keep another file than the one the
trainer shipped: Telegram re-encodes every photo, WhatsApp's servers process what is uploaded,
and a channel that shows WebP gets the one made for phones from each picture instead of its
source.
Where a channel has told the size of the file its servers keep (it answers an upload or a send
with it), that size is counted; before the first send, the shipped file's own size is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.course.model import Lesson, Media, MessageStep

MESSAGE_BYTES = 500  # the protocol around one chat message, where the channel does not say


@dataclass(frozen=True)
class Transfer:
    """How one channel moves a lesson to the learner's phone.

    ``message_bytes``: the protocol around one message; ``media_overhead``: what comes with
    each file besides its bytes (a preview picture, the download's headers); ``sends``: the
    media kinds the channel sends as files (others are not downloaded at all);
    ``kept``: for a shipped file's path, its size then and the size of the file the channel's
    servers keep, as the channel reported it; ``webp``: the channel gets a picture's WebP.
    """

    message_bytes: int = MESSAGE_BYTES
    media_overhead: int = 0
    sends: frozenset[str] = frozenset({"image", "audio"})
    kept: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    webp: bool = False

    def media_bytes(self, media: Media) -> int:
        """What the learner's phone downloads for one file: 0 when the channel does not send it."""
        if media.kind.value not in self.sends:
            return 0
        path, size = media.sent(self.webp)  # the file this channel really gets
        shipped, kept = self.kept.get(path, (size, size))
        return (kept if shipped == size else size) + self.media_overhead  # else: changed since


GENERIC = Transfer()


def _words(value: object) -> int:
    """The bytes of a step's texts: its strings, and the strings in its lists of them."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, tuple | list):
        return sum(_words(item) for item in value)
    return 0


def text_bytes(lesson: Lesson, transfer: Transfer) -> int:
    """The lesson's texts, each step a message with the channel's protocol around it."""
    texts = sum(_words(v) for step in lesson.steps for k, v in vars(step).items() if k != "id")
    return texts + transfer.message_bytes * len(lesson.steps)


def media_bytes(lesson: Lesson, transfer: Transfer) -> int:
    return sum(
        transfer.media_bytes(step.media)
        for step in lesson.steps
        if isinstance(step, MessageStep) and step.media is not None
    )


def media_files(lesson: Lesson, transfer: Transfer) -> int:
    """How many of the lesson's files the channel sends."""
    return sum(
        1
        for step in lesson.steps
        if isinstance(step, MessageStep) and step.media and transfer.media_bytes(step.media)
    )


def download_bytes(lesson: Lesson, transfer: Transfer, media: bool) -> int:
    """About what a lesson costs in data on this channel, with or without its media."""
    return text_bytes(lesson, transfer) + (media_bytes(lesson, transfer) if media else 0)

"""``/data``: how much of the learner's data the coach used in the last 7 days.

Counted the way a lesson's cost is (``bot/core/data_cost.py``), from what really moved: each
message the coach delivered is its words with the channel's protocol around it, each lesson
file the size the channel's servers keep with what comes besides it, and each message the
learner sent is one message's protocol (the coach keeps no learner's text or file, so their
own words and photos are not counted). On a channel the phone asks for its messages (the web
chat), one exchange carries the learner's message up and the coach's answers down:
``message_bytes`` already counts both, so the coach's messages add their words only.

Seven days, not the calendar week: they need no time zone, and they are as long as the
coach keeps the message ids and texts it counts from (``COACH_RETENTION_…_DAYS``).
In a group every message reaches every member's phone: nobody's own figure can be told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import payloads
from bot.core.data_cost import Transfer
from bot.core.effects import Choice, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.rules import Rules, said_alone
from bot.core.state import LearnerState
from bot.core.text import N_, DataSize, Msg, Np_, Text
from bot.course.model import Media, MediaKind

COMMAND = "data"
PERIOD = timedelta(days=7)
# Translators: words a learner may write, alone, to be told how much data the coach used (as
# /data does); separate them with commas.
DATA_WORDS = N_("data used, how much data")


@dataclass(frozen=True)
class Sent:
    """The coach's messages delivered in the period that carried the same file, or none:
    how many, and the bytes of their words (texts and button labels) together."""

    messages: int
    words: int
    media: Media | None = None


@dataclass(frozen=True)
class Traffic:
    """What moved between the coach and one learner in the period, as the store counts it."""

    sent: tuple[Sent, ...] = ()
    received: int = 0  # the learner's messages, button presses included


@dataclass(frozen=True)
class DataUse:
    """The figure ``/data`` tells: messages both ways and lesson files, and their bytes."""

    messages: int = 0
    message_bytes: int = 0
    files: int = 0
    file_bytes: int = 0

    @property
    def total(self) -> int:
        return self.message_bytes + self.file_bytes


def words(text: str, labels: Iterable[str] = (), alt: str | None = None) -> int:
    """The bytes of one message's words as they travel: its text, its buttons' labels and a
    picture's description; kept with the message, whose text is wiped after some days."""
    return sum(len(said.encode()) for said in (text, *labels, alt or ""))


def since(now: datetime) -> datetime:
    """The start of the period ``/data`` counts."""
    return now - PERIOD


def sent_file(kind: str | None, path: str | None, size: int | None) -> Media | None:
    """A lesson file as an outbox row names it; None for no file or another kind (a
    volunteer's copied message, a template), whose size is not known."""
    if kind not in {k.value for k in MediaKind} or path is None or size is None:
        return None
    return Media(MediaKind(kind), path, size)


def data_use(traffic: Traffic, transfer: Transfer, pull: bool) -> DataUse:
    """The learner's data that ``traffic`` cost on a channel that moves messages this way."""
    coach = sum(sent.messages for sent in traffic.sent)
    exchanges = traffic.received if pull else traffic.received + coach
    files = file_bytes = 0
    for sent in traffic.sent:
        size = transfer.media_bytes(sent.media) if sent.media is not None else 0
        if size:
            files += sent.messages
            file_bytes += size * sent.messages
    words = sum(sent.words for sent in traffic.sent)
    return DataUse(
        messages=coach + traffic.received,
        message_bytes=words + transfer.message_bytes * exchanges,
        files=files,
        file_bytes=file_bytes,
    )


def is_data_word(text: str, language: str | None, rules: Rules) -> bool:
    """A message such as "data used" alone, in the learner's language or in English."""
    return said_alone(text, rules.data_words, language, trim="!.?¡¿ ")


def asks_data_use(event: Inbound, language: str | None, rules: Rules) -> bool:
    """``/data`` or its words: the service counts the learner's data only for these."""
    if event.kind is InboundKind.COMMAND:
        return event.command == COMMAND
    typed = event.kind is InboundKind.TEXT and not event.chatter
    return typed and is_data_word(event.text or "", language, rules)


def data_use_reply(
    state: LearnerState, used: DataUse | None, transfer: Transfer, group: bool
) -> Reply:
    """The figure in one sentence, then whether pictures are on, with the button that
    turns them off (or on) and the way back to the menu."""
    if group:
        return Reply(
            (
                N_(
                    "In a group every message reaches every member's phone, "
                    "so I cannot count your own data here."
                ),
            )
        )
    used = used or DataUse()
    parts: list[Text] = [_figure(used)]
    choices = [Choice(N_("Back to the menu"), payloads.MENU)]
    if transfer.sends:
        if state.text_only:
            on = N_("Pictures on")
            parts.append(
                N_("Pictures are off to save data: “{button}” shows them again.", button=on)
            )
        else:
            on = N_("Save data: no pictures")
            parts.append(N_("Pictures are on: “{button}” leaves them out.", button=on))
        choices.insert(0, Choice(on, payloads.TEXT_ONLY))
    return Reply(tuple(parts), tuple(choices))


def _figure(used: DataUse) -> Msg:
    if not used.messages:
        return N_("In the last 7 days we sent each other no messages: I used none of your data.")
    messages = Np_("{n} message", "{n} messages", used.messages)
    if not used.files:
        return N_(
            "In the last 7 days our messages used about {total} of your data: {messages}.",
            total=DataSize(used.total),
            messages=messages,
        )
    return N_(
        "In the last 7 days our messages used about {total} of your data: "
        "{messages} ({text}) and {files} ({media}).",
        total=DataSize(used.total),
        messages=messages,
        text=DataSize(used.message_bytes),
        files=Np_("{n} picture", "{n} pictures", used.files),
        media=DataSize(used.file_bytes),
    )

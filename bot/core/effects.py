"""What the core decides to do, as data the service carries out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.text import Text
from bot.course.model import Media


@dataclass(frozen=True)
class Choice:
    """An option offered to the learner: a button and the number to type for it."""

    label: Text
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the learner; ``tag`` names it so a reply to it can be recognised.

    ``edit_pressed``: where the channel can, this replaces the message whose button was
    pressed instead of arriving as a new one; ``edit_only``: it is shown only that way.
    """

    parts: tuple[Text, ...]
    choices: tuple[Choice, ...] = ()
    media: Media | None = None
    tag: str | None = None
    edit_pressed: bool = False
    edit_only: bool = False


@dataclass(frozen=True)
class Record:
    """An analytics event for the append-only log (ids and figures only)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HandoffAction:
    """Something the hand-off desk must do: open, update or cancel the request, pass a
    message to the volunteer, or store the learner's rating or comment."""

    kind: str
    text: str | None = None
    rating: int | None = None
    message_id: str | None = None
    media: str | None = None
    media_ref: str | None = None  # see Inbound.media_ref
    attachment: bytes | None = field(default=None, repr=False)  # see Inbound.attachment


Effect = Reply | Record | HandoffAction

"""Text the core asks to show, resolved later in the learner's language.

The core never formats a sentence itself: it names interface text by its gettext
msgid (marked with ``N_`` or ``Np_`` so Babel extracts it) and lesson text by its
place in the course, and the renderer turns both into the learner's language.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.course.wording import Wording


@dataclass(frozen=True)
class Msg:
    """Interface text from the ``messages`` catalog."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None


@dataclass(frozen=True)
class CourseText:
    """Lesson text from the ``curriculum`` catalog, found by its context.

    ``variants``: ``(channel, context, source)`` said instead on that channel.
    ``needs``: the kind of message this text asks the learner to send (an inbound kind);
    on a channel that cannot receive it, ``instead`` is said in its place.
    """

    context: str
    source: str
    variants: tuple[tuple[str, str, str], ...] = ()
    needs: str | None = None
    instead: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Verbatim:
    """Text shown as it is (a language's own name, a number)."""

    text: str


@dataclass(frozen=True)
class LocalTime:
    """A moment shown as a clock time in the learner's locale, in its own time zone."""

    moment: datetime


@dataclass(frozen=True)
class DataSize:
    """An amount of data, shown in kB or MB in the learner's locale."""

    size: int


@dataclass(frozen=True)
class LocalDateTime:
    """A day and time, e.g. a drop-in slot, in the learner's locale and the moment's zone."""

    moment: datetime


@dataclass(frozen=True)
class DropIns:
    """Drop-in places with their next opening times, one per line."""

    places: tuple[Any, ...]  # rules.Place; Any keeps this module free of imports
    now: datetime


Text = Msg | CourseText | Verbatim | LocalTime | DataSize | LocalDateTime | DropIns


def N_(msgid: str, **params: Any) -> Msg:
    """Mark interface text for extraction and carry its parameters."""
    return Msg(msgid, params)


def Np_(singular: str, plural: str, n: int, **params: Any) -> Msg:
    """Mark interface text with a plural form; ``n`` chooses the form."""
    return Msg(singular, {"n": n, **params}, plural=plural, n=n)


def course_text(lesson_id: str, step_id: str, name: str, source: str) -> CourseText:
    """A step's text; its channel variants come along when the course has any."""
    context = f"{lesson_id}/{step_id}/{name}"
    on = source.on if isinstance(source, Wording) else {}
    variants = tuple((channel, f"{context}@{channel}", text) for channel, text in on.items())
    return CourseText(context, source, variants)


def for_channel(text: Text, channel: str, receives: Collection[str]) -> tuple[Text, ...]:
    """The text as this channel says it: its own variant of lesson text, and what is said
    instead of a request it cannot receive; inside interface text's parameters too."""
    if isinstance(text, CourseText):
        if text.needs is not None and text.needs not in receives:
            return tuple(t for part in text.instead for t in for_channel(part, channel, receives))
        return (_variant(text, channel),)
    if isinstance(text, Msg) and any(isinstance(v, CourseText) for v in text.params.values()):
        params = {
            key: _variant(value, channel) if isinstance(value, CourseText) else value
            for key, value in text.params.items()
        }
        return (replace(text, params=params),)
    return (text,)


def _variant(text: CourseText, channel: str) -> CourseText:
    own = next((v for v in text.variants if v[0] == channel), None)
    return CourseText(own[1], own[2]) if own else CourseText(text.context, text.source)

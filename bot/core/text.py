"""Text the core asks to show, resolved later in the learner's language.

The core never formats a sentence itself: it names interface text by its gettext
msgid (marked with ``N_`` or ``Np_`` so Babel extracts it) and lesson text by its
place in the course, and the renderer turns both into the learner's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Msg:
    """Interface text from the ``messages`` catalog."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None


@dataclass(frozen=True)
class CourseText:
    """Lesson text from the ``curriculum`` catalog, found by its context."""

    context: str
    source: str


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
    return CourseText(f"{lesson_id}/{step_id}/{name}", source)

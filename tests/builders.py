"""Builders with sensible defaults for courses, events and learners in tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.events import Inbound, InboundKind, Sender
from bot.core.rules import Rules
from bot.course.holder import CourseHolder
from bot.course.model import (
    CheckpointStep,
    Course,
    Lesson,
    MessageStep,
    Module,
    PracticeKind,
    PracticeStep,
    QuizStep,
)
from bot.i18n import Catalogs
from bot.services.coach import CoachService
from bot.store.unit_of_work import Store

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LANGUAGES = {"en": "English", "fr": "Français", "ar": "العربية"}
# A lesson of one picture and its description (the course is given media/buttons.png).
PICTURE_LESSON = """\
title: Buttons
minutes: 1
steps:
  - id: look
    kind: message
    image: media/buttons.png
    alt: Two blue buttons, 1 and 2, under a message.
    text: Buttons are under my message.
  - id: recap
    kind: checkpoint
    text: You saw a picture.
"""
_keys = itertools.count(1)


def sample_course() -> Course:
    """Two lessons: one with a message, a quiz, a photo task and a recap; one with a reply task."""
    first = Lesson(
        id="first",
        module_id="basics",
        title="First steps",
        minutes=2,
        steps=(
            MessageStep("hello", "Hello there."),
            QuizStep(
                "colour", "Which is a colour?", ("Table", "Blue", "Run"), 1, "Yes!", "Not quite."
            ),
            PracticeStep(
                "photo", "Send a photo.", PracticeKind.PHOTO, "Use the camera.", "Nice photo!"
            ),
            CheckpointStep("recap", "You did it."),
        ),
    )
    second = Lesson(
        id="second",
        module_id="basics",
        title="Replies",
        minutes=1,
        steps=(
            PracticeStep(
                "reply",
                "Reply to the next message.",
                PracticeKind.REPLY,
                "Swipe it.",
                "Good.",
                target="Reply to me",
            ),
            PracticeStep(
                "word",
                "Type the word yes.",
                PracticeKind.TEXT,
                "Type yes.",
                "Right.",
                pattern=r"^yes$",
            ),
        ),
    )
    return Course("test", "Test course", "en", (Module("basics", "Basics", (first, second)),))


def sender(user: str = "u1", hint: str | None = "en") -> Sender:
    return Sender("test", user, user, first_name="Amina", language_hint=hint)


def _event(kind: InboundKind, who: Sender | None, at: datetime | None, **fields: object) -> Inbound:
    return Inbound(who or sender(), kind, at or NOW, f"k{next(_keys)}", **fields)  # type: ignore[arg-type]


def command(name: str, who: Sender | None = None, at: datetime | None = None) -> Inbound:
    return _event(InboundKind.COMMAND, who, at, text=f"/{name}", command=name)


def text(
    value: str, who: Sender | None = None, at: datetime | None = None, **fields: object
) -> Inbound:
    return _event(InboundKind.TEXT, who, at, text=value, **fields)


def button(payload: str, who: Sender | None = None, at: datetime | None = None) -> Inbound:
    return _event(InboundKind.BUTTON, who, at, payload=payload)


def media(kind: InboundKind, who: Sender | None = None, at: datetime | None = None) -> Inbound:
    return _event(kind, who, at)


def coach_service(
    engine: AsyncEngine, course: Path | None = None, languages: tuple[str, ...] = ("en", "fr", "ar")
) -> CoachService:
    """The coach service on ``engine``, a test course (the journey one unless said) and NOW."""
    from tests.conftest import JOURNEY_COURSE, ROOT

    catalogs = Catalogs(ROOT / "locales", list(languages), "en")
    return CoachService(
        Store(engine),
        CourseHolder.load(course or JOURNEY_COURSE),
        catalogs,
        Rules(catalogs.names()),
        default_language="en",
        clock=lambda: NOW,
    )

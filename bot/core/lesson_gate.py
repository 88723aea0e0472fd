"""Before a lesson with pictures or sounds, what it costs on the learner's channel, and the
choice: start, start without pictures, or not now. A lesson with nothing but text starts at
once (its size is shown with its first step): a question before it would cost more data than
it could save."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core import payloads
from bot.core.data_cost import Transfer, media_bytes, media_files, text_bytes
from bot.core.effects import Choice, Record, Reply
from bot.core.lesson import Outcome, resuming, start_lesson
from bot.core.menus import lesson_title
from bot.core.state import LearnerState
from bot.core.text import N_, DataSize, Np_
from bot.course.model import Lesson

OFFERED = "lesson_offered"


def open_lesson(state: LearnerState, lesson: Lesson, now: datetime, transfer: Transfer) -> Outcome:
    """The lesson a learner chose: its cost and the choice first, when it has files to
    download and the learner is not in the middle of it."""
    files = media_files(lesson, transfer)
    if state.text_only or not files or resuming(state, lesson) is not None:
        return start_lesson(state, lesson, now, transfer)
    said = N_(
        "📘 {title} — about {minutes} min. This lesson: about {text} (text) + {media} ({files}).",
        title=lesson_title(lesson),
        minutes=lesson.minutes,
        text=DataSize(text_bytes(lesson, transfer)),
        media=DataSize(media_bytes(lesson, transfer)),
        files=Np_("{n} picture", "{n} pictures", files),
    )
    choices = (
        Choice(N_("▶️ Start"), payloads.go(lesson.id)),
        Choice(N_("Start without pictures"), payloads.go_without_pictures(lesson.id)),
        Choice(N_("Not now"), payloads.module(lesson.module_id)),
    )
    return state, [Record(OFFERED, {"lesson": lesson.id}), Reply((said,), choices)]


def go(
    state: LearnerState, lesson: Lesson, now: datetime, transfer: Transfer, pictures: bool
) -> Outcome:
    """Start after the choice; without pictures, the learner's data saving goes on (for the
    next lessons too, until they turn it off in the menu)."""
    if pictures or state.text_only:
        return start_lesson(state, lesson, now, transfer, introduced=True)
    saving = replace(state, text_only=True)
    after, effects = start_lesson(saving, lesson, now, transfer, introduced=True)
    said = N_(
        "Pictures and sounds are off: lessons cost less data. "
        "“Pictures on” in the menu turns them on again."
    )
    return after, [Record("text_only_set", {"on": True}), Reply((said,)), *effects]

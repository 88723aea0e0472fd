"""Progress figures and the streak of active days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.core.state import LearnerState
from bot.course.model import Course

BAR_WIDTH = 10


def progress_bar(done: int, total: int) -> str:
    """A small text bar that renders in any chat app, e.g. ``▓▓▓░░░░░░░ 30%``."""
    share = done / total if total else 0.0
    filled = round(share * BAR_WIDTH)
    return f"{'▓' * filled}{'░' * (BAR_WIDTH - filled)} {round(share * 100)}%"


def lessons_done(state: LearnerState, course: Course) -> int:
    return len(state.done_lessons() & {lesson.id for lesson in course.lessons})


def record_active_day(state: LearnerState, today: date) -> LearnerState:
    """Count ``today`` in the streak: days in a row with at least one finished step."""
    if state.last_active_day == today:
        return state
    if state.last_active_day == today - timedelta(days=1):
        return replace(state, streak_days=state.streak_days + 1, last_active_day=today)
    return replace(state, streak_days=1, last_active_day=today)


def current_streak(state: LearnerState, today: date) -> int:
    """The streak as it stands today: it lapses after a whole day without a step."""
    if state.last_active_day is None or state.last_active_day < today - timedelta(days=1):
        return 0
    return state.streak_days

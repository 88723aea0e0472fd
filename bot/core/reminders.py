"""Reminders in the conversation: time zone, pause and resume, the nudge itself, reviews."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import payloads
from bot.core.effects import Choice, Effect, Record, Reply
from bot.core.lesson import Outcome, position, quiz_choices
from bot.core.menus import lesson_title
from bot.core.nudges import (
    CONTINUE_LABEL,
    LATER_LABEL,
    PAUSE_LABEL,
    PAUSE_USAGE,
    NudgeContext,
    after_nudge_sent,
    decide_nudge,
    next_nudge_at,
    nudge_message,
    pause,
    resume,
    snooze,
)
from bot.core.numbers import payload_number, typed_number
from bot.core.progress import current_streak
from bot.core.review import due_items, review_answered
from bot.core.rules import Rules, said_alone
from bot.core.state import LearnerState
from bot.core.text import N_, LocalTime, Np_, Text, course_text
from bot.course.model import Course, QuizStep

PAUSE_DAYS = 7


def timezone_choice(rules: Rules, now: datetime) -> Reply:
    """“What time is it for you?”: the learner taps the time their phone shows."""
    choices, seen = [], set()
    for index, zone in enumerate(rules.timezones):
        local = now.astimezone(ZoneInfo(zone))
        shown = local.strftime("%H:%M")
        if shown not in seen:
            seen.add(shown)
            choices.append(Choice(LocalTime(local), payloads.timezone(index)))
    return Reply((N_("What time is it where you are now?"),), tuple(choices))


def set_timezone(state: LearnerState, index: str, rules: Rules) -> LearnerState | None:
    chosen = payload_number(index)
    if chosen is None or chosen >= len(rules.timezones):
        return None
    return replace(state, timezone=rules.timezones[chosen])


# Translators: words a learner may write, alone, to stop every message from the coach (as in
# "STOP" on WhatsApp); separate them with commas.
STOP_WORDS = N_("stop, unsubscribe")


def is_stop_word(text: str, language: str | None, rules: Rules) -> bool:
    """A message such as "STOP" or "arrêt" alone: the learner wants no more messages."""
    return said_alone(text, rules.stop_words, language)


def pause_command(state: LearnerState, argument: str | None, now: datetime) -> Outcome:
    """``/pause`` or ``/pause N``: no reminders for N days (7 when no number is given)."""
    raw = (argument or "").strip()
    days = typed_number(raw) if raw else PAUSE_DAYS
    if days is None:
        return state, [Reply((PAUSE_USAGE,))]
    try:
        paused = pause(state.nudge, now, days)
    except ValueError:
        return state, [Reply((PAUSE_USAGE,))]
    return _paused(replace(state, nudge=paused), days)


def _paused(state: LearnerState, days: int) -> Outcome:
    said = Np_(
        "OK. No reminders for {n} day. Send /resume to get them again.",
        "OK. No reminders for {n} days. Send /resume to get them again.",
        days,
    )
    return state, [Record("nudges_paused", {"days": days}), Reply((said,))]


def resume_command(state: LearnerState) -> Outcome:
    resumed = replace(state, nudge=resume(state.nudge))
    return resumed, [Record("nudges_resumed"), Reply((N_("Reminders are on again."),))]


def nudge_button(state: LearnerState, action: str, rules: Rules, now: datetime) -> Outcome | None:
    """Later or Pause under a reminder; None for Continue, which shows where they were."""
    if action == "later":
        state = replace(state, nudge=snooze(state.nudge_view(), now, rules.nudges))
        return state, [Record("nudge_snoozed"), Reply((N_("OK. I will write to you tomorrow."),))]
    if action == "pause":
        return _paused(replace(state, nudge=pause(state.nudge, now, PAUSE_DAYS)), PAUSE_DAYS)
    return None


def review_answer(
    state: LearnerState, course: Course, args: tuple[str, ...], now: datetime
) -> Outcome | None:
    """An answer to a review question; None when that question is not under review."""
    lesson = course.lesson(args[0])
    key = (args[0], args[1])
    if lesson is None or key not in {item.key for item in state.reviews}:
        return None
    step = lesson.step(args[1])
    option = payload_number(args[2])
    if not isinstance(step, QuizStep) or option is None or option >= len(step.options):
        return None
    correct = option == step.answer
    state = replace(state, reviews=review_answered(state.reviews, key, correct, now))
    name, source = ("right", step.right) if correct else ("wrong", step.wrong)
    feedback = course_text(lesson.id, step.id, name, source)
    record = Record("review_answered", {"lesson": lesson.id, "step": step.id, "correct": correct})
    return state, [record, Reply((feedback,))]


def due_at(state: LearnerState, rules: Rules, now: datetime, group: bool) -> datetime | None:
    """When the next reminder is due; never for a learner in a group chat (no public nudges)."""
    if group or state.language is None:
        return None
    return next_nudge_at(state.nudge_view(), rules.nudges, now)


def nudge_turn(
    state: LearnerState, course: Course, now: datetime, rules: Rules, seed: str
) -> tuple[LearnerState, list[Effect], str | None]:
    """The reminder to send now, if any: new state, messages, and the reminder's unique key."""
    decision = decide_nudge(state.nudge_view(), rules.nudges, now)
    if decision is None:
        return state, [], None
    at = position(state, course)
    title: Text | None = lesson_title(at.lesson) if at is not None else None
    streak = current_streak(state, now.astimezone(ZoneInfo(state.timezone)).date())
    text = nudge_message(decision, NudgeContext(seed, streak, title))
    choices = (
        Choice(CONTINUE_LABEL, payloads.NUDGE_GO),
        Choice(LATER_LABEL, payloads.NUDGE_LATER),
        Choice(PAUSE_LABEL, payloads.NUDGE_PAUSE),
    )
    effects: list[Effect] = [
        Record("nudge_sent", {"kind": decision.kind.value, "number": decision.number})
    ]
    review = _review_question(state, course, now)
    if review is not None:
        effects += [Reply((text,)), review]
    else:
        effects.append(Reply((text,), choices))
    nudge = after_nudge_sent(state.nudge, now, decision)
    return replace(state, nudge=nudge), effects, decision.key


def _review_question(state: LearnerState, course: Course, now: datetime) -> Reply | None:
    """One missed question, asked again inside the reminder."""
    for item in due_items(state.reviews, now, limit=1):
        lesson = course.lesson(item.lesson_id)
        step = lesson.step(item.step_id) if lesson is not None else None
        if lesson is None or not isinstance(step, QuizStep):
            continue
        choices = quiz_choices(lesson, step, state.seed, payloads.review)
        intro = N_("A quick question to remember:")
        return Reply((intro, course_text(lesson.id, step.id, "question", step.question)), choices)
    return None

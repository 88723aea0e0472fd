"""Course figures for trainers, computed from the event log: aggregates only.

A lesson's figures follow the learners who started it in the period asked for (its
cohort): how far each got, how they answered its questions and tasks. Reminders are
counted when they were sent. Trainers' preview conversations are left out. Every count is
a number of learners unless its name says otherwise; ``shown`` turns small ones into
"< 5" so that no one can be picked out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.course.model import Course, Lesson, PracticeStep, QuizStep
from bot.store.tables import EventRow, Learner
from bot.store.unit_of_work import Store

SMALL = 5
PREVIEW_OPENED = "preview_opened"  # recorded by CoachService.preview
COME_BACK = timedelta(days=1)
LESSON_EVENTS = (
    "lesson_started",
    "lesson_finished",
    "step_done",
    "quiz_answered",
    "practice_hint",
    "practice_done",
    "practice_skipped",
    "unclear_flagged",
)
NOT_THE_LEARNER = frozenset({"nudge_sent", "learner_unreachable", PREVIEW_OPENED})


def shown(count: int) -> str:
    """A count of learners as a page or a file shows it: 1 to 4 are "< 5"."""
    return "< 5" if 0 < count < SMALL else str(count)


def shown_rate(part: int, whole: int) -> str:
    """A share of learners, shown only when neither part nor whole is a small cell."""
    if whole < SMALL or 0 < part < SMALL:
        return "—"
    return f"{round(100 * part / whole)} %"


@dataclass(frozen=True)
class Filters:
    """Which learners and which period; None means all."""

    language: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def within(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


@dataclass(frozen=True)
class Event:
    learner: int
    name: str
    data: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class StepFigures:
    step_id: str
    kind: str
    reached: int
    stopped: int


@dataclass(frozen=True)
class QuizFigures:
    step_id: str
    question: str
    first_tries: int
    first_wrong: int
    wrong_options: tuple[tuple[str, int], ...]  # every wrong option, and who picked it first


@dataclass(frozen=True)
class PracticeFigures:
    step_id: str
    prompt: str
    tried: int  # learners who were given the task and answered it at least once
    failed: int  # learners who got the hint at least once
    done_after_failing: int
    skipped: int


@dataclass(frozen=True)
class UnclearFigures:
    """Learners who found a step unclear in one language (a draft translation)."""

    step_id: str
    language: str
    learners: int


@dataclass(frozen=True)
class LessonFigures:
    lesson_id: str
    title: str
    minutes: int
    started: int
    finished: int
    median_minutes: float | None  # None when fewer than SMALL learners finished
    steps: tuple[StepFigures, ...] = ()
    quizzes: tuple[QuizFigures, ...] = ()
    practice: tuple[PracticeFigures, ...] = ()
    unclear: tuple[UnclearFigures, ...] = ()


@dataclass(frozen=True)
class ReminderFigures:
    kind: str
    sent: int  # reminders, not learners
    learners: int
    came_back: int  # learners who did something within a day of a reminder


@dataclass
class EventLog:
    """The events the figures need, per lesson, for one set of filters."""

    lessons: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    reminders: list[Event] = field(default_factory=list)
    activity: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))


async def preview_learners(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Which of these learners are trainers' previews."""
    if not ids:
        return set()
    query = select(EventRow.learner_id).where(
        EventRow.name == PREVIEW_OPENED, EventRow.learner_id.in_(list(ids))
    )
    return {learner for learner in await session.scalars(query) if learner is not None}


async def read_events(
    store: Store, filters: Filters, names: Sequence[str] | None = None
) -> EventLog:
    """The events (all, or those ``names``) of learners who match the filters, trainers'
    previews left out."""
    previews = select(EventRow.learner_id).where(
        EventRow.name == PREVIEW_OPENED, EventRow.learner_id.is_not(None)
    )
    query = (
        select(EventRow.learner_id, EventRow.name, EventRow.data, EventRow.at)
        .join(Learner, Learner.id == EventRow.learner_id)
        .where(EventRow.learner_id.not_in(previews))
        .order_by(EventRow.at, EventRow.id)
    )
    if names is not None:
        query = query.where(EventRow.name.in_(list(names)))
    if filters.since is not None:  # nothing before the period changes its figures
        query = query.where(EventRow.at >= filters.since)
    if filters.language:
        query = query.where(Learner.language == filters.language)
    if filters.channel:
        query = query.where(Learner.channel == filters.channel)
    log = EventLog()
    async with store.unit_of_work() as uow:
        rows = (await uow.session.execute(query)).all()
    for learner, name, data, at in rows:
        event = Event(learner, name, data or {}, at)
        if name not in NOT_THE_LEARNER and not _desk_action(name, event.data):
            log.activity[learner].append(at)
        if name == "nudge_sent":
            if filters.within(at):
                log.reminders.append(event)
        elif name in LESSON_EVENTS and isinstance(event.data.get("lesson"), str):
            log.lessons[event.data["lesson"]].append(event)
    return log


def _desk_action(name: str, data: dict[str, Any]) -> bool:
    """An event about a learner's request that a volunteer or the clock caused, not them."""
    return "handoff" in data and not name.startswith("handoff_learner_")


def lesson_figures(
    lesson: Lesson, events: Iterable[Event], filters: Filters, detail: bool = True
) -> LessonFigures:
    """One lesson's figures for the learners who started it within the filters' period."""
    events = list(events)
    started_at: dict[int, datetime] = {}
    for event in events:
        if event.name == "lesson_started" and filters.within(event.at):
            started_at.setdefault(event.learner, event.at)
    cohort = set(started_at)
    mine = [e for e in events if e.learner in cohort and e.at >= started_at[e.learner]]
    done: dict[str, set[int]] = defaultdict(set)
    finished_at: dict[int, datetime] = {}
    for event in mine:
        if event.name == "step_done":
            done[str(event.data.get("step"))].add(event.learner)
        elif event.name == "lesson_finished":
            finished_at.setdefault(event.learner, event.at)
    # A learner reached a step when they finished the one before it, or any later one
    # (so a step added or moved after they passed does not break the funnel).
    ids = [step.id for step in lesson.steps]
    reached = [set(cohort)]
    beyond = set(finished_at)
    later: list[set[int]] = []
    for index in range(len(ids) - 1, 0, -1):
        beyond = beyond | done[ids[index - 1]] | done[ids[index]]
        later.append(set(beyond))
    reached += reversed(later)
    reached.append(set(finished_at))
    steps = tuple(
        StepFigures(
            step.id,
            type(step).__name__.removesuffix("Step").lower(),
            len(reached[i]),
            len(reached[i] - reached[i + 1]),
        )
        for i, step in enumerate(lesson.steps)
    )
    minutes = [
        (finished_at[learner] - started_at[learner]).total_seconds() / 60 for learner in finished_at
    ]
    median = statistics.median(minutes) if len(minutes) >= SMALL else None
    figures = LessonFigures(
        lesson.id, lesson.title, lesson.minutes, len(cohort), len(finished_at), median, steps
    )
    if not detail:
        return figures
    detailed = {"quizzes": quizzes(lesson, mine), "practice": practice(lesson, mine)}
    return LessonFigures(**{**vars(figures), **detailed, "unclear": unclear(lesson, mine)})


def quizzes(lesson: Lesson, events: list[Event]) -> tuple[QuizFigures, ...]:
    """Per question: how many answered it a first time, how many were wrong, and with what."""
    first: dict[tuple[str, int], Event] = {}
    for event in events:
        if event.name == "quiz_answered" and event.data.get("attempt") == 1:
            first.setdefault((str(event.data.get("step")), event.learner), event)
    figures = []
    for step in lesson.steps:
        if not isinstance(step, QuizStep):
            continue
        answers = [e for (step_id, _), e in first.items() if step_id == step.id]
        wrong = [e for e in answers if not e.data.get("correct")]
        picked = [e.data.get("option") for e in wrong]
        options = tuple(
            (text, picked.count(number))
            for number, text in enumerate(step.options)
            if number != step.answer
        )
        figures.append(QuizFigures(step.id, step.question, len(answers), len(wrong), options))
    return tuple(figures)


def practice(lesson: Lesson, events: list[Event]) -> tuple[PracticeFigures, ...]:
    """Per task: learners who tried it, who failed at least once, who did it after failing."""
    seen: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for event in events:
        if event.name in ("practice_hint", "practice_done", "practice_skipped"):
            seen[str(event.data.get("step"))][event.name].add(event.learner)
    figures = []
    for step in lesson.steps:
        if not isinstance(step, PracticeStep):
            continue
        by = seen[step.id]
        hint, done, skipped = by["practice_hint"], by["practice_done"], by["practice_skipped"]
        figures.append(
            PracticeFigures(
                step.id, step.prompt, len(hint | done), len(hint), len(hint & done), len(skipped)
            )
        )
    return tuple(figures)


def unclear(lesson: Lesson, events: list[Event]) -> tuple[UnclearFigures, ...]:
    """Per step and language, the learners who flagged it unclear; most flagged first."""
    flagged: dict[tuple[str, str], set[int]] = defaultdict(set)
    for event in events:
        if event.name == "unclear_flagged":
            key = (str(event.data.get("step")), str(event.data.get("language")))
            flagged[key].add(event.learner)
    order = {step.id: index for index, step in enumerate(lesson.steps)}
    keys = sorted(flagged, key=lambda k: (-len(flagged[k]), order.get(k[0], len(order)), k[1]))
    return tuple(
        UnclearFigures(step, language, len(flagged[(step, language)])) for step, language in keys
    )


def reminder_figures(log: EventLog) -> tuple[ReminderFigures, ...]:
    """Per kind of reminder: how many went, to how many learners, and who came back."""
    kinds: dict[str, list[Event]] = defaultdict(list)
    for event in log.reminders:
        kinds[str(event.data.get("kind", "-"))].append(event)
    figures = []
    for kind, sent in sorted(kinds.items()):
        back = {
            event.learner
            for event in sent
            if any(event.at < at <= event.at + COME_BACK for at in log.activity[event.learner])
        }
        figures.append(ReminderFigures(kind, len(sent), len({e.learner for e in sent}), len(back)))
    return tuple(figures)


async def course_figures(
    store: Store, course: Course, filters: Filters
) -> tuple[list[LessonFigures], tuple[ReminderFigures, ...]]:
    """Every lesson's summary (no step detail) and the reminders, within the filters."""
    log = await read_events(store, filters)
    lessons = [
        lesson_figures(lesson, log.lessons.get(lesson.id, []), filters, detail=False)
        for lesson in course.lessons
    ]
    return lessons, reminder_figures(log)


async def one_lesson(store: Store, lesson: Lesson, filters: Filters) -> LessonFigures:
    log = await read_events(store, filters, LESSON_EVENTS)
    return lesson_figures(lesson, log.lessons.get(lesson.id, []), filters)

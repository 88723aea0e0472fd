"""Taking a lesson: showing steps, grading quizzes, checking practice, finishing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.core import payloads
from bot.core.data_cost import GENERIC, Transfer, download_bytes, media_bytes
from bot.core.effects import Choice, Effect, Record, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.menus import lesson_title
from bot.core.practice_elsewhere import PRACTICE_INBOUND, UNCHECKED, needing, practised_elsewhere
from bot.core.progress import lessons_done, progress_bar, record_active_day
from bot.core.review import schedule_wrong
from bot.core.state import LearnerState, LessonProgress, LessonStatus
from bot.core.text import N_, CourseText, DataSize, Msg, Text, Verbatim, course_text
from bot.course.answer_patterns import matches
from bot.course.model import (
    Course,
    Lesson,
    Media,
    MediaKind,
    MessageStep,
    PracticeKind,
    PracticeStep,
    QuizStep,
    Step,
)

Outcome = tuple[LearnerState, list[Effect]]


@dataclass(frozen=True)
class Position:
    """Where a learner is inside a lesson."""

    lesson: Lesson
    step: Step
    progress: LessonProgress


def position(state: LearnerState, course: Course) -> Position | None:
    """The learner's current step, if they are inside a lesson that still has it."""
    if state.current_lesson is None:
        return None
    lesson = course.lesson(state.current_lesson)
    progress = state.lesson_progress(state.current_lesson)
    if lesson is None or progress is None or progress.step_id is None:
        return None
    index = lesson.step_index(progress.step_id)
    if index is None:
        return None
    return Position(lesson, lesson.steps[index], progress)


def show_step(lesson: Lesson, step: Step, state: LearnerState) -> list[Effect]:
    """The messages that present one step to this learner (no pictures in text-only mode)."""

    def text(name: str, source: str) -> CourseText:
        return course_text(lesson.id, step.id, name, source)

    if isinstance(step, MessageStep):
        next_choice = Choice(N_("Next ➡️"), payloads.next_step(lesson.id, step.id))
        parts: tuple[Text, ...] = (text("text", step.text),)
        described = picture_description(step.media) if state.text_only else None
        parts += (described,) if described is not None else ()
        shown = None if state.text_only else step.media
        return [Reply(parts, (next_choice,), media=shown)]
    if isinstance(step, QuizStep):
        choices = quiz_choices(lesson, step, state.seed)
        return [Reply((text("question", step.question),), choices)]
    if isinstance(step, PracticeStep):
        skip = (Choice(N_("Skip this task"), payloads.skip(lesson.id, step.id)),)
        prompt = needing(text("prompt", step.prompt), step.expect, f"{lesson.id}/{step.id}", True)
        if step.target is None:
            return [Reply((prompt,), skip)]
        target = text("target", step.target)
        return [Reply((prompt,)), Reply((target,), skip, tag=f"{lesson.id}/{step.id}")]
    finish = Choice(N_("Finish the lesson ✅"), payloads.next_step(lesson.id, step.id))
    return [Reply((text("text", step.recap),), (finish,))]


def picture_description(media: Media | None) -> Msg | None:
    """What a picture shows, said where the picture itself is not."""
    if media is None or media.kind is not MediaKind.IMAGE or not media.alt:
        return None
    return N_("🖼 {description}", description=CourseText(media.alt_context or "", media.alt))


def quiz_choices(
    lesson: Lesson,
    step: QuizStep,
    seed: int,
    payload: Callable[[str, str, int], str] = payloads.answer,
) -> tuple[Choice, ...]:
    """The options of a quiz in this learner's order; ``payload`` makes their buttons (an
    answer, or a review) and keeps each option's index in the file, so grading ignores order."""
    return tuple(
        Choice(
            course_text(lesson.id, step.id, f"option-{i + 1}", step.options[i]),
            payload(lesson.id, step.id, i),
        )
        for i in option_order(seed, lesson.id, step.id, len(step.options))
    )


def option_order(seed: int, lesson_id: str, step_id: str, count: int) -> tuple[int, ...]:
    """A quiz's option indexes, shuffled by the learner's seed and the question.

    Trainers tend to write the right answer first; shuffling stops a learner from learning
    the place instead of the answer. The order depends on nothing else, so the same
    learner sees the same order every time (in the lesson and in a review) and a typed
    number keeps meaning what they saw."""

    def rank(index: int) -> bytes:
        return hashlib.sha256(f"{seed}/{lesson_id}/{step_id}/{index}".encode()).digest()

    return tuple(sorted(range(count), key=rank))


def resuming(state: LearnerState, lesson: Lesson) -> int | None:
    """The index of the step a learner left this lesson at, if they are in the middle of it."""
    progress = state.lesson_progress(lesson.id)
    if progress is None or progress.status is not LessonStatus.STARTED or not progress.step_id:
        return None
    return lesson.step_index(progress.step_id)


def start_lesson(
    state: LearnerState,
    lesson: Lesson,
    now: datetime,
    transfer: Transfer = GENERIC,
    *,
    introduced: bool = False,
) -> Outcome:
    """Start a lesson, resume it where the learner left it, or take it again when done;
    ``transfer``: how the learner's channel moves it, for the size shown before it (unless
    ``introduced``: the learner saw it and chose to start)."""
    progress = state.lesson_progress(lesson.id)
    step_index = resuming(state, lesson)
    resumed = step_index is not None
    if progress is None or step_index is None:
        progress = LessonProgress(lesson.id, LessonStatus.STARTED, lesson.steps[0].id, 0, now)
        step_index = 0
    state = replace(state.with_progress(progress), current_lesson=lesson.id)
    if resumed:
        intro = N_("Welcome back to “{title}”.", title=lesson_title(lesson))
        record = Record("lesson_resumed", {"lesson": lesson.id, "step": progress.step_id})
    else:
        intro = lesson_intro(lesson, state.text_only, transfer)
        record = Record("lesson_started", {"lesson": lesson.id})
    first = show_step(lesson, lesson.steps[step_index], state)
    said = [] if introduced and not resumed else [Reply((intro,))]
    return state, [record, *said, *first]


def lesson_intro(lesson: Lesson, text_only: bool, transfer: Transfer = GENERIC) -> Msg:
    """Title, minutes and download size on the learner's channel, so a learner on a small
    data plan can choose."""
    title, minutes = lesson_title(lesson), lesson.minutes
    size = DataSize(download_bytes(lesson, transfer, media=not text_only))
    if media_bytes(lesson, transfer) and not text_only:
        without = DataSize(download_bytes(lesson, transfer, media=False))
        return N_(
            "📘 {title} — about {minutes} min. Download: {size}, or {without} without pictures.",
            title=title,
            minutes=minutes,
            size=size,
            without=without,
        )
    return N_(
        "📘 {title} — about {minutes} min. Download: {size}.",
        title=title,
        minutes=minutes,
        size=size,
    )


def advance(
    state: LearnerState, at: Position, course: Course, now: datetime, today: date
) -> Outcome:
    """Mark the current step finished and show the next one, or finish the lesson."""
    state = record_active_day(state, today)
    effects: list[Effect] = [Record("step_done", {"lesson": at.lesson.id, "step": at.step.id})]
    index = at.lesson.step_index(at.step.id)
    assert index is not None
    if index + 1 < len(at.lesson.steps):
        following = at.lesson.steps[index + 1]
        progress = replace(at.progress, step_id=following.id, step_attempts=0)
        shown = show_step(at.lesson, following, state)
        return state.with_progress(progress), effects + shown
    progress = replace(
        at.progress, status=LessonStatus.DONE, step_id=None, step_attempts=0, finished_at=now
    )
    state = replace(state.with_progress(progress), current_lesson=None)
    finished = Record("lesson_finished", {"lesson": at.lesson.id, "score": progress.score})
    return state, [*effects, finished, finished_message(state, at.lesson, course)]


def finished_message(state: LearnerState, lesson: Lesson, course: Course) -> Reply:
    """Congratulate, show the score and the bar, and offer what comes next."""
    quizzes = sum(isinstance(step, QuizStep) for step in lesson.steps)
    progress = state.lesson_progress(lesson.id)
    score = progress.score if progress else 0
    done, total = lessons_done(state, course), len(course.lessons)
    parts: list[Text] = [N_("🎉 Well done! You finished “{title}”.", title=lesson_title(lesson))]
    if quizzes:
        parts.append(N_("Right at the first try: {score} of {total}.", score=score, total=quizzes))
    parts.append(N_("Lessons done: {done} of {total}", done=done, total=total))
    parts.append(Verbatim(progress_bar(done, total)))
    choices = []
    following = course.next_lesson(lesson.id)
    if following is not None:
        label = N_("Next lesson: {title}", title=lesson_title(following))
        choices.append(Choice(label, payloads.lesson(following.id)))
    choices.append(Choice(N_("🙋 Talk to a person"), payloads.handoff("ask")))
    choices.append(Choice(N_("Back to the menu"), payloads.MENU))
    return Reply(tuple(parts), tuple(choices))


def answer_quiz(
    state: LearnerState, at: Position, option: int, course: Course, now: datetime, today: date
) -> Outcome:
    """Grade an answer: feedback, then the next step, or the question again."""
    step = at.step
    assert isinstance(step, QuizStep)
    correct = option == step.answer
    record = Record(
        "quiz_answered",
        {
            "lesson": at.lesson.id,
            "step": step.id,
            "correct": correct,
            "attempt": at.progress.step_attempts + 1,
            "option": option,  # the course's own order, for the trainers' figures
        },
    )
    question = course_text(at.lesson.id, step.id, "question", step.question)
    chosen = course_text(at.lesson.id, step.id, f"option-{option + 1}", step.options[option])
    if not correct:
        progress = replace(at.progress, step_attempts=at.progress.step_attempts + 1)
        state = replace(state, reviews=schedule_wrong(state.reviews, at.lesson.id, step.id, now))
        wrong = course_text(at.lesson.id, step.id, "wrong", step.wrong)
        parts = (question, N_("❌ {answer}", answer=chosen), wrong, N_("Try again."))
        retry = Reply(parts, quiz_choices(at.lesson, step, state.seed), edit_pressed=True)
        return state.with_progress(progress), [record, retry]
    score = at.progress.score + (1 if at.progress.step_attempts == 0 else 0)
    at = replace(at, progress=replace(at.progress, score=score))
    answered = Reply(
        (question, N_("✅ {answer}", answer=chosen)), edit_pressed=True, edit_only=True
    )
    feedback = Reply((course_text(at.lesson.id, step.id, "right", step.right),))
    state, effects = advance(state, at, course, now, today)
    return state, [record, answered, feedback, *effects]


def practice_accepts(step: PracticeStep, tag: str, event: Inbound) -> bool:
    """Whether what arrived is what the practice task asked for."""
    if step.expect is PracticeKind.REPLY:
        return event.reply_to_tag == tag
    if step.expect is PracticeKind.FORWARD:
        return event.forwarded
    if step.expect is PracticeKind.TEXT:
        text = event.text or ""
        return event.kind is InboundKind.TEXT and matches(step.pattern or ".", text)
    return event.kind is PRACTICE_INBOUND[step.expect] or practised_elsewhere(
        step.expect, tag, event
    )


def try_practice(
    state: LearnerState, at: Position, event: Inbound, course: Course, now: datetime, today: date
) -> Outcome:
    """Complete the practice step, or give the hint and keep waiting."""
    step = at.step
    assert isinstance(step, PracticeStep)
    tag = f"{at.lesson.id}/{step.id}"
    data = {"lesson": at.lesson.id, "step": step.id, "kind": event.kind.value}
    if practised_elsewhere(step.expect, tag, event):
        # Counted apart from practice_done, so the trainers' figures never call it checked.
        state, effects = advance(state, at, course, now, today)
        return state, [Record("practice_unchecked", data), Reply((UNCHECKED,)), *effects]
    if practice_accepts(step, tag, event):
        success = Reply((course_text(at.lesson.id, step.id, "success", step.success),))
        state, effects = advance(state, at, course, now, today)
        return state, [Record("practice_done", data), success, *effects]
    if event.chatter:  # group talk that is not the task: not a wrong try, no hint
        return state, []
    progress = replace(at.progress, step_attempts=at.progress.step_attempts + 1)
    skip = Choice(N_("Skip this task"), payloads.skip(at.lesson.id, step.id))
    hint = course_text(at.lesson.id, step.id, "hint", step.hint)
    hint_reply = Reply((needing(hint, step.expect, tag, False),), (skip,))
    return state.with_progress(progress), [Record("practice_hint", data), hint_reply]


def asked_gesture(course: Course, tag: str | None) -> str | None:
    """``reply`` or ``forward`` when a message is the one a practice step asks the learner
    to reply to or forward; a chat page offers those gestures on that message only."""
    lesson_id, _, step_id = (tag or "").partition("/")
    lesson = course.lesson(lesson_id)
    step = lesson.step(step_id) if lesson is not None else None
    if isinstance(step, PracticeStep) and step.expect in (PracticeKind.REPLY, PracticeKind.FORWARD):
        return step.expect.value
    return None

"""How long a lesson takes a learner, estimated from its text, its steps and its tasks.

The coach promises lessons of 1 to 3 minutes. A lesson's time is estimated from what a
learner who answers right the first time goes through: every text they read in the
source language (title, messages, questions and options, the feedback for a right
answer, prompts, messages to reply to, success texts, recaps), one tap per step, and the
time to do each practice task. ``coach curriculum check`` refuses a lesson over the limit
and a lesson whose declared ``minutes`` is off from the estimate by more than one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.course.model import (
    Lesson,
    MessageStep,
    PracticeKind,
    PracticeStep,
    QuizStep,
    Step,
)
from bot.course.problems import Problem
from bot.course.yaml_lines import LineDict, LineList

# The constants, in one place. Why these values:
# - 60 words a minute: many learners read in a second language, on a small screen, with
#   few years of school; 60 is a realistic pace for them (fluent adults read 200-250).
# - 3 seconds a step: every step ends with a tap (Next, an answer, a skip), and finding
#   the button on a phone takes a beginner a few seconds.
# - The practice times: what a beginner needs to leave the text, do the gesture and send
#   (type a word; touch and hold a message; open the camera and take a picture; scan or
#   find a file, the slowest).
WORDS_PER_MINUTE = 60
SECONDS_PER_STEP = 3
PRACTICE_SECONDS: dict[PracticeKind, int] = {
    PracticeKind.TEXT: 20,
    PracticeKind.REPLY: 20,
    PracticeKind.FORWARD: 20,
    PracticeKind.CONTACT: 25,
    PracticeKind.LOCATION: 25,
    PracticeKind.VOICE: 25,
    PracticeKind.PHOTO: 30,
    PracticeKind.VIDEO_NOTE: 30,
    PracticeKind.DOCUMENT: 60,
}
LIMIT_MINUTES = 3  # the promise: a lesson takes at most 3 minutes
TOLERANCE_MINUTES = 1  # the declared "minutes" may differ from the estimate by this much


def count_words(text: str) -> int:
    """Words as a reader meets them: pieces between spaces with a letter or a digit in them.

    Emojis and arrows alone are not words; "ameli.fr" and "CAF-2026" are one word each.
    """
    return sum(any(char.isalnum() for char in piece) for piece in text.split())


def step_texts(step: Step) -> tuple[str, ...]:
    """What a learner reads at this step when they get it right the first time."""
    if isinstance(step, MessageStep):
        return (step.text,)
    if isinstance(step, QuizStep):
        return (step.question, *step.options, step.right)
    if isinstance(step, PracticeStep):
        return (step.prompt, step.target or "", step.success)
    return (step.recap,)


def step_seconds(step: Step) -> float:
    """Reading time, one tap, and the task's own time for a practice step."""
    words = sum(count_words(text) for text in step_texts(step))
    seconds = words * 60 / WORDS_PER_MINUTE + SECONDS_PER_STEP
    if isinstance(step, PracticeStep):
        seconds += PRACTICE_SECONDS[step.expect]
    return seconds


@dataclass(frozen=True)
class Estimate:
    """A lesson's estimated time and what it is made of."""

    seconds: float
    words: int
    steps: int
    tasks: int

    @property
    def minutes(self) -> int:
        """Whole minutes, rounded up: a lesson of 2 minutes 10 seconds is said to take 3."""
        return max(1, math.ceil(round(self.seconds) / 60))

    def describe(self) -> str:
        steps = "1 step" if self.steps == 1 else f"{self.steps} steps"
        tasks = "1 practice task" if self.tasks == 1 else f"{self.tasks} practice tasks"
        return f"{self.words} words at {WORDS_PER_MINUTE} a minute, {steps}, {tasks}"


def estimate(lesson: Lesson) -> Estimate:
    """The estimated time of one lesson."""
    words = count_words(lesson.title) + sum(
        count_words(text) for step in lesson.steps for text in step_texts(step)
    )
    seconds = count_words(lesson.title) * 60 / WORDS_PER_MINUTE
    seconds += sum(step_seconds(step) for step in lesson.steps)
    tasks = sum(isinstance(step, PracticeStep) for step in lesson.steps)
    return Estimate(seconds, words, len(lesson.steps), tasks)


def timing_problems(lesson: Lesson, data: LineDict, file: str) -> list[Problem]:
    """A lesson over the limit (at the step that crosses it) and a declared time that is off."""
    found = estimate(lesson)
    problems: list[Problem] = []
    if found.seconds > LIMIT_MINUTES * 60:
        elapsed = count_words(lesson.title) * 60 / WORDS_PER_MINUTE
        for step in lesson.steps:
            elapsed += step_seconds(step)
            if elapsed > LIMIT_MINUTES * 60:
                break
        problems.append(
            Problem(
                file,
                _step_line(data, step.id),
                f'step "{step.id}": the lesson passes {LIMIT_MINUTES} minutes here; it takes '
                f"about {found.minutes} minutes ({found.describe()}); split it into two "
                "lessons or make it shorter",
            )
        )
    declared = lesson.minutes
    if declared and abs(declared - found.minutes) > TOLERANCE_MINUTES:
        problems.append(
            Problem(
                file,
                data.line_of("minutes"),
                f'lesson: "minutes" is {declared} but the lesson takes about {found.minutes} '
                f"({found.describe()}); write {found.minutes}",
            )
        )
    return problems


def _step_line(data: LineDict, step_id: str) -> int:
    steps = data.get("steps")
    if isinstance(steps, LineList):
        for item, line in zip(steps, steps.item_lines, strict=True):
            if isinstance(item, LineDict) and item.get("id") == step_id:
                return line
    return data.line_of("steps")

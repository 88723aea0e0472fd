"""Every shipped lesson can be taken to the end, by the core, as a learner would."""

from __future__ import annotations

import pytest

from bot.core import payloads
from bot.core.lesson import PRACTICE_INBOUND
from bot.core.state import LessonStatus
from bot.course.holder import CourseHolder
from bot.course.model import CheckpointStep, MessageStep, PracticeKind, PracticeStep, QuizStep
from tests.builders import button, command, media, text
from tests.conftest import ROOT
from tests.core_journey import CoreJourney

COURSE = CourseHolder.load(ROOT / "curriculum").course


def test_the_warm_up_module_has_three_lessons_a_quiz_and_a_practice_task() -> None:
    warmup = COURSE.module("warmup")
    assert warmup is not None and len(warmup.lessons) >= 3
    steps = [step for lesson in warmup.lessons for step in lesson.steps]
    assert any(isinstance(step, QuizStep) for step in steps)
    assert any(isinstance(step, PracticeStep) for step in steps)
    assert all(1 <= lesson.minutes <= 3 for lesson in warmup.lessons)


@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda lesson: lesson.id)
def test_a_learner_can_finish_the_lesson(lesson) -> None:  # type: ignore[no-untyped-def]
    journey = CoreJourney(course=COURSE)
    journey.send(command("start"))
    journey.send(button("lang:en"))
    journey.send(button(payloads.lesson(lesson.id)))
    if lesson.id not in journey.state.progress:  # pictures: its cost first, then Start
        assert journey.state.choices[0] == payloads.go(lesson.id)
        journey.send(text("1"))
    for step in lesson.steps:
        assert journey.state.progress[lesson.id].step_id == step.id
        if isinstance(step, MessageStep | CheckpointStep):
            journey.send(text("1"))
        elif isinstance(step, QuizStep):
            right = payloads.answer(lesson.id, step.id, step.answer)
            journey.send(text(str(journey.state.choices.index(right) + 1)))
        elif step.expect in PRACTICE_INBOUND:
            journey.send(media(PRACTICE_INBOUND[step.expect]))
        elif step.expect is PracticeKind.REPLY:
            journey.send(text("hello", reply_to_tag=f"{lesson.id}/{step.id}"))
        elif step.expect is PracticeKind.FORWARD:
            journey.send(text("hello", forwarded=True))
        else:
            journey.send(button(payloads.skip(lesson.id, step.id)))
    assert journey.state.progress[lesson.id].status is LessonStatus.DONE
    assert journey.texts()[-1].startswith("🎉 Well done!")

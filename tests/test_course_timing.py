"""A lesson's estimated time: over 3 minutes, or far from its declared minutes, is refused."""

from __future__ import annotations

from pathlib import Path

from bot.course.loader import check_course, load_course
from bot.course.model import Lesson, MessageStep, PracticeKind, PracticeStep
from bot.course.timing import (
    LIMIT_MINUTES,
    PRACTICE_SECONDS,
    SECONDS_PER_STEP,
    WORDS_PER_MINUTE,
    count_words,
    estimate,
)

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
MANIFEST = """\
id: test
title: Test course
source_language: en
modules:
  - id: warmup
    title: Using this chat
    lessons:
      - hello
"""


def message(step_id: str, words: int) -> str:
    return f"  - id: {step_id}\n    kind: message\n    text: {' '.join(['word'] * words)}\n"


def lesson_file(minutes: int, steps: str) -> str:
    return f"id: hello\ntitle: Hello\nminutes: {minutes}\nsteps:\n{steps}"  # steps on line 5


def problems_in(tmp_path: Path, minutes: int, steps: str) -> list[str]:
    root = tmp_path / "curriculum"
    (root / "warmup").mkdir(parents=True)
    (root / "course.yaml").write_text(MANIFEST, encoding="utf-8")
    (root / "warmup" / "hello.yaml").write_text(lesson_file(minutes, steps), encoding="utf-8")
    course, problems = check_course(root)
    assert (course is None) == bool(problems)
    return [str(problem) for problem in problems]


def test_words_are_counted_as_a_reader_meets_them() -> None:
    assert count_words("Tap 📎 or ➕, then Camera.") == 4
    assert count_words("Go to ameli.fr — it is free! 🆓") == 6
    assert count_words("") == 0


def test_the_estimate_adds_reading_taps_and_the_task() -> None:
    practice = PracticeStep(
        "send", "Send a photo of a cup.", PracticeKind.PHOTO, "Tap 📎.", "Nice!"
    )
    lesson = Lesson(
        "hello", "warmup", "Hello", 1, (MessageStep("hi", "Hello there, friend."), practice)
    )
    found = estimate(lesson)
    words = 1 + 3 + 6 + 1  # title, message, prompt, success (the hint is only for a wrong try)
    expected = (
        words * 60 / WORDS_PER_MINUTE + 2 * SECONDS_PER_STEP + PRACTICE_SECONDS[practice.expect]
    )
    assert (found.words, found.steps, found.tasks) == (words, 2, 1)
    assert found.seconds == expected
    assert found.minutes == 1


def test_a_lesson_that_is_too_long_is_refused_at_the_step_that_crosses_the_limit(
    tmp_path: Path,
) -> None:
    steps = "".join(message(f"part-{n}", 50) for n in range(1, 6))  # 5 x 53 s
    problems = problems_in(tmp_path, 3, steps)
    # Parts 1 to 3 take 159 s; part 4 (line 14) passes 180 s.
    assert problems[1].startswith(
        'curriculum/warmup/hello.yaml:14: step "part-4": the lesson passes '
        f"{LIMIT_MINUTES} minutes here; it takes about 5 minutes (251 words at 60 a minute, "
        "5 steps, 0 practice tasks)"
    )
    assert problems[0] == (
        'curriculum/warmup/hello.yaml:3: lesson: "minutes" is 3 but the lesson takes about 5 '
        "(251 words at 60 a minute, 5 steps, 0 practice tasks); write 5"
    )
    assert len(problems) == 2


def test_a_declared_time_off_by_more_than_one_minute_is_refused(tmp_path: Path) -> None:
    steps = message("hi", 20)  # about 24 s: 1 minute
    assert problems_in(tmp_path, 3, steps) == [
        'curriculum/warmup/hello.yaml:3: lesson: "minutes" is 3 but the lesson takes about 1 '
        "(21 words at 60 a minute, 1 step, 0 practice tasks); write 1"
    ]
    assert problems_in(tmp_path / "two", 2, steps) == []


def test_a_minutes_field_that_is_already_wrong_is_reported_once(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, 20, message("hi", 5))
    assert problems == [
        'curriculum/warmup/hello.yaml:3: lesson: "minutes" must be from 1 to 10, not 20'
    ]


def test_the_shipped_curriculum_keeps_every_lesson_within_three_minutes() -> None:
    _, problems = check_course(CURRICULUM)
    assert [str(p) for p in problems] == []
    course = load_course(CURRICULUM)
    for lesson in course.lessons:
        found = estimate(lesson)
        assert found.seconds <= LIMIT_MINUTES * 60, lesson.id
        assert abs(lesson.minutes - found.minutes) <= 1, lesson.id

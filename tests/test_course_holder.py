"""The course holder: a good edit is swapped in, a broken edit keeps the last good course."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.course.holder import CourseHolder
from bot.course.model import MessageStep
from bot.course.problems import CourseError

MANIFEST = """\
id: test
title: Test course
source_language: en
modules:
  - id: warmup
    title: Using this chat
    lessons: [hello]
"""


def lesson(text: str) -> str:
    return f"id: hello\ntitle: Hello\nminutes: 1\nsteps:\n  - id: hi\n    kind: message\n{text}"


def curriculum(tmp_path: Path, text: str = "    text: Hello!\n") -> Path:
    root = tmp_path / "curriculum"
    (root / "warmup").mkdir(parents=True)
    (root / "course.yaml").write_text(MANIFEST, encoding="utf-8")
    (root / "warmup" / "hello.yaml").write_text(lesson(text), encoding="utf-8")
    return root


def edit(root: Path, text: str) -> None:
    """Rewrite the lesson and move its mtime forward, as a trainer's save would."""
    path = root / "warmup" / "hello.yaml"
    before = path.stat().st_mtime_ns
    path.write_text(lesson(text), encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def greeting(holder: CourseHolder) -> str:
    step = holder.course.lessons[0].steps[0]
    assert isinstance(step, MessageStep)
    return step.text


def test_a_broken_course_stops_the_coach_from_starting(tmp_path: Path) -> None:
    root = curriculum(tmp_path, "    txt: Hello!\n")
    with pytest.raises(CourseError) as raised:
        CourseHolder.load(root)
    assert [str(p) for p in raised.value.problems] == [
        'curriculum/warmup/hello.yaml:5: step "hi": "text" is missing',
        'curriculum/warmup/hello.yaml:7: step "hi": unknown field "txt"; did you mean "text"?',
    ]


def test_a_good_edit_is_swapped_in_on_reload(tmp_path: Path) -> None:
    root = curriculum(tmp_path)
    holder = CourseHolder.load(root)
    edit(root, "    text: Good morning!\n")
    assert holder.reload() == []
    assert greeting(holder) == "Good morning!"


def test_a_broken_edit_keeps_the_last_good_course_and_logs_each_problem(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = curriculum(tmp_path)
    holder = CourseHolder.load(root)
    edit(root, "    text: ''\n    image: media/none.png\n    alt: A cup.\n")
    with caplog.at_level(logging.WARNING, logger="bot.course"):
        problems = holder.reload()
    assert [str(p) for p in problems] == [
        'curriculum/warmup/hello.yaml:7: step "hi": "text" is empty',
        'curriculum/warmup/hello.yaml:8: step "hi": media file not found: media/none.png '
        "(paths start at the curriculum folder)",
    ]
    assert greeting(holder) == "Hello!"
    warnings = [r for r in caplog.records if r.name == "bot.course"]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
    assert "curriculum/warmup/hello.yaml:7:" in warnings[0].getMessage()


def test_the_course_can_be_loaded_from_its_manifest_file(tmp_path: Path) -> None:
    holder = CourseHolder.load(curriculum(tmp_path) / "course.yaml")
    assert greeting(holder) == "Hello!"
    assert holder.changed() is False


def test_changed_notices_an_edit_until_the_next_reload(tmp_path: Path) -> None:
    root = curriculum(tmp_path)
    holder = CourseHolder.load(root)
    assert holder.changed() is False
    edit(root, "    text: Hello again!\n")
    assert holder.changed() is True
    holder.reload()
    assert holder.changed() is False


def test_changed_notices_a_new_media_file_but_not_an_editor_swap_file(tmp_path: Path) -> None:
    root = curriculum(tmp_path)
    holder = CourseHolder.load(root)
    (root / "warmup" / ".hello.yaml.swp").write_bytes(b"swap")
    assert holder.changed() is False
    (root / "media").mkdir()
    (root / "media" / "new.png").write_bytes(b"\x89PNG")
    assert holder.changed() is True


def test_a_broken_edit_is_not_reported_again_until_the_next_edit(tmp_path: Path) -> None:
    root = curriculum(tmp_path)
    holder = CourseHolder.load(root)
    edit(root, "    text:\n")
    assert holder.changed() is True
    assert holder.reload() != []
    assert holder.changed() is False
    edit(root, "    text: Fixed.\n")
    assert holder.changed() is True
    assert holder.reload() == []
    assert greeting(holder) == "Fixed."

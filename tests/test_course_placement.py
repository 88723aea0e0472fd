"""The placement section of course.yaml: read, checked with file:line, extracted for translators."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.course.extract import extract_curriculum
from bot.course.loader import check_course, load_course
from bot.course.placement import PlacementQuestion
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "courses" / "placement"
MANIFEST = (FIXTURE / "course.yaml").read_text(encoding="utf-8")
FILE = "curriculum/course.yaml"


def curriculum_with(tmp_path: Path, manifest: str) -> Path:
    """The placement fixture course with another manifest."""
    root = tmp_path / "curriculum"
    for lesson in FIXTURE.glob("*/*.yaml"):
        target = root / lesson.relative_to(FIXTURE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(lesson.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "course.yaml").write_text(manifest, encoding="utf-8")
    return root


def problems(tmp_path: Path, old: str, new: str) -> list[str]:
    assert old in MANIFEST
    course, found = check_course(curriculum_with(tmp_path, MANIFEST.replace(old, new, 1)))
    assert course is None
    return [str(problem) for problem in found]


def test_the_questions_are_read_in_order_with_their_modules() -> None:
    assert load_course(FIXTURE).placement == (
        PlacementQuestion("chat", "Can you already send a photo in a chat?"),
        PlacementQuestion("calls", "Can you already make a video call?"),
    )


def test_the_shipped_course_asks_two_to_four_questions_about_its_modules() -> None:
    course = load_course(ROOT / "curriculum")
    assert 2 <= len(course.placement) <= 4
    assert all(course.module(q.module_id) is not None for q in course.placement)
    assert all(q.question.startswith("Can you already") for q in course.placement)


def test_a_course_without_placement_asks_nothing() -> None:
    assert load_course(ROOT / "tests" / "fixtures" / "journey").placement == ()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "module: calls",
            "module: videos",
            f'{FILE}:7: placement question 2: there is no module "videos"; use one of: chat, calls',
            id="unknown module",
        ),
        pytest.param(
            "question: Can you already make a video call?",
            'question: ""',
            f'{FILE}:8: placement question 2: "question" is empty',
            id="empty question",
        ),
        pytest.param(
            "    question: Can you already make a video call?\n",
            "",
            f'{FILE}:7: placement question 2: "question" is missing',
            id="missing question",
        ),
        pytest.param(
            "module: calls",
            "module: chat",
            f'{FILE}:7: placement question 2: "chat" is asked about twice (first on line 5)',
            id="module twice",
        ),
        pytest.param(
            "  - module: calls\n",
            "  - modul: calls\n",
            f'{FILE}:7: placement question 2: unknown field "modul"; did you mean "module"?',
            id="misspelt field",
        ),
        pytest.param(
            "  - module: calls\n    question: Can you already make a video call?\n",
            "",
            f'{FILE}:4: course: "placement" must have 2 to 4 questions, not 1',
            id="one question",
        ),
        pytest.param(
            "  - module: calls\n    question: Can you already make a video call?\n",
            "  - Can you already make a video call?\n",
            f'{FILE}:7: course: placement question 2 must hold fields like "module: ..." and '
            '"question: ..."',
            id="a bare question",
        ),
        pytest.param(
            "question: Can you already make a video call?",
            "question: Can you already " + "make a video call and " * 10 + "more?",
            f'{FILE}:8: placement question 2: "question" is too long for one chat message: '
            "241 > 200",
            id="long question",
        ),
    ],
)
def test_a_broken_placement_is_named_with_its_file_and_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in problems(tmp_path, old, new)


def test_the_check_command_reports_an_unknown_module_with_its_line(tmp_path: Path) -> None:
    root = curriculum_with(tmp_path, MANIFEST.replace("module: calls", "module: videos"))
    result = CliRunner().invoke(app, ["curriculum", "check", str(root)])
    assert result.exit_code == 1
    assert 'course.yaml:7: placement question 2: there is no module "videos"' in result.output


def test_the_questions_are_extracted_for_translators_with_their_module() -> None:
    extracted = list(extract_curriculum(io.BytesIO(MANIFEST.encode()), {}, (), {}))
    found = {context: (line, text) for line, _, (context, text), _ in extracted}
    assert found["placement:chat/question"] == (6, "Can you already send a photo in a chat?")
    assert found["placement:calls/question"] == (8, "Can you already make a video call?")

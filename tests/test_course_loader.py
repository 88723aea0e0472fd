"""The curriculum loader: the real course loads, and each mistake is named with its file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.course.loader import MEDIA_LIMIT, check_course, load_course
from bot.course.model import (
    CheckpointStep,
    MediaKind,
    MessageStep,
    PracticeKind,
    PracticeStep,
    QuizStep,
)
from bot.course.problems import CourseError, Problem

CURRICULUM = Path(__file__).resolve().parent.parent / "curriculum"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "courses"
LESSON_FILE = "curriculum/warmup/hello.yaml"
MANIFEST_FILE = "curriculum/course.yaml"

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

HEADER = """\
id: hello
title: Hello
minutes: 2
steps:
"""  # steps start on line 5

GOOD_STEP = """\
  - id: hi
    kind: message
    text: Hello!
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files under root, creating folders; returns root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def course_with(
    tmp_path: Path, steps: str = GOOD_STEP, files: dict[str, str | bytes] | None = None
) -> Path:
    """A curriculum with the test manifest and warmup/hello.yaml made of HEADER and steps."""
    default: dict[str, str | bytes] = {
        "course.yaml": MANIFEST,
        "warmup/hello.yaml": HEADER + textwrap.dedent(steps),
        "media/a.png": b"\x89PNG",
        "media/hello.ogg": b"OggS",
    }
    return write(tmp_path / "curriculum", default | (files or {}))


def problems_in(root: Path) -> list[str]:
    course, problems = check_course(root)
    assert (course is None) == bool(problems)
    return [str(problem) for problem in problems]


def the_problem(root: Path) -> Problem:
    _, problems = check_course(root)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_real_curriculum_loads_without_problems() -> None:
    course, problems = check_course(CURRICULUM)
    assert [str(p) for p in problems] == []
    assert course is not None
    warmup = course.module("warmup")
    assert warmup is not None and warmup.title == "Using this chat"
    assert len(warmup.lessons) >= 3


def test_every_real_lesson_is_short_has_a_quiz_and_ends_with_a_recap() -> None:
    course = load_course(CURRICULUM)
    for lesson in course.lessons:
        assert 1 <= lesson.minutes <= 3, lesson.id
        assert any(isinstance(step, QuizStep) for step in lesson.steps), lesson.id
        assert isinstance(lesson.steps[-1], CheckpointStep), lesson.id
        assert lesson.competence is not None, lesson.id


def test_the_warmup_has_practice_tasks_and_a_small_picture() -> None:
    warmup = load_course(CURRICULUM / "course.yaml").module("warmup")
    assert warmup is not None
    steps = [step for lesson in warmup.lessons for step in lesson.steps]
    practices = {step.expect for step in steps if isinstance(step, PracticeStep)}
    assert {PracticeKind.PHOTO, PracticeKind.VOICE, PracticeKind.REPLY} <= practices
    media = [step.media for step in steps if isinstance(step, MessageStep) and step.media]
    assert [(m.kind, m.path) for m in media] == [(MediaKind.IMAGE, "media/buttons.png")]
    assert 0 < media[0].size < 10_000


def test_a_good_lesson_becomes_steps_with_answers_counted_from_zero(tmp_path: Path) -> None:
    steps = """\
    - id: pick
      kind: quiz
      question: Which one?
      options: [Yes, No, Maybe]
      answer: 2
      right: Right.
      wrong: Wrong.
    """
    course = load_course(course_with(tmp_path, steps))
    quiz = course.lessons[0].steps[0]
    assert isinstance(quiz, QuizStep)
    assert quiz.options == ("Yes", "No", "Maybe")
    assert quiz.answer == 1


def test_a_broken_course_raises_with_every_problem(tmp_path: Path) -> None:
    root = course_with(tmp_path, "- id: hi\n  kind: message\n")
    with pytest.raises(CourseError) as raised:
        load_course(root)
    assert [str(p) for p in raised.value.problems] == [
        f'{LESSON_FILE}:5: step "hi": "text" is missing'
    ]
    assert str(raised.value) == f'{LESSON_FILE}:5: step "hi": "text" is missing'


def test_all_problems_in_a_file_are_collected_in_one_pass() -> None:
    problems = problems_in(FIXTURES / "three-mistakes")
    assert problems == [
        'three-mistakes/warmup/hello.yaml:3: lesson: "minutes" must be from 1 to 10, not 20',
        'three-mistakes/warmup/hello.yaml:9: step "pick": unknown field "qestion"; '
        'did you mean "question"?',
        'three-mistakes/warmup/hello.yaml:12: step "pick": "answer" is 3 but the options '
        "are numbered 1 to 2",
    ]


STEP_PROBLEMS = [
    pytest.param("- id: hi\n  kind: message\n", 5, '"text" is missing', id="missing field"),
    pytest.param(
        "- id: hi\n  kind: message\n  text: [a, b]\n", 7, '"text" must be text', id="wrong type"
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: 42\n", 7, "must be text; put it in quotes", id="number"
    ),
    pytest.param(
        "- id: hi\n  kind: video\n",
        6,
        'unknown step kind "video"; use one of: message, quiz, practice, checkpoint',
        id="unknown kind",
    ),
    pytest.param("- id: hi\n  text: Hi\n", 5, '"kind" is missing', id="missing kind"),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  imgae: media/a.png\n",
        8,
        'unknown field "imgae"; did you mean "image"?',
        id="unknown field",
    ),
    pytest.param("- id: hi\n  kind: message\n  text: ''\n", 7, '"text" is empty', id="empty text"),
    pytest.param("- id: hi\n  kind: checkpoint\n  text:\n", 7, '"text" is empty', id="no recap"),
    pytest.param(
        "- id: hi\n  kind: message\n  text: " + "a" * 4097 + "\n",
        7,
        '"text" is too long for one chat message: 4097 > 4096',
        id="text too long",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  image: media/a.png\n  alt: A cup.\n  text: "
        + "🙂" * 513
        + "\n",
        9,
        "too long to go with an image or audio: 1026 > 1024",
        id="caption too long",
    ),
    pytest.param(
        "- id: Hi There\n  kind: message\n  text: Hi\n",
        5,
        '"id" must use only lowercase letters, digits and dashes',
        id="id not a slug",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n- id: hi\n  kind: message\n  text: Ho\n",
        8,
        "this step id is used twice (first on line 5)",
        id="duplicate step id",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  text: Ho\n",
        8,
        '"text" appears twice here',
        id="duplicate key",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  image: media/none.png\n  alt: A cup.\n",
        8,
        "media file not found: media/none.png",
        id="missing media",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  image: media/hello.ogg\n  alt: A cup.\n",
        8,
        '"image" must be a .png, .jpg, .jpeg file, not media/hello.ogg',
        id="image of the wrong type",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  audio: media/a.png\n",
        8,
        '"audio" must be a .ogg, .mp3, .m4a, .wav file, not media/a.png',
        id="audio of the wrong type",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  image: media/big.png\n  alt: A cup.\n",
        8,
        "media/big.png is too big: 5.0 MB, max 5 MB",
        id="media too big",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  image: ../a.png\n  alt: A cup.\n",
        8,
        "must be a path inside the curriculum folder",
        id="media outside the folder",
    ),
    pytest.param(
        "- id: hi\n  kind: message\n  text: Hi\n  image: media/a.png\n  audio: media/hello.ogg\n"
        "  alt: A cup.\n",
        9,
        "a message can have an image or an audio, not both",
        id="image and audio",
    ),
]


@pytest.mark.parametrize(("steps", "line", "message"), STEP_PROBLEMS)
def test_a_broken_step_is_named_with_its_line(
    tmp_path: Path, steps: str, line: int, message: str
) -> None:
    root = course_with(tmp_path, steps)
    with (root / "media" / "big.png").open("wb") as big:
        big.truncate(MEDIA_LIMIT + 1)
    problem = the_problem(root)
    assert (problem.file, problem.line) == (LESSON_FILE, line)
    assert message in problem.message


QUIZ = """\
- id: pick
  kind: quiz
  question: Which one?
  options: [Blue, Green]
  right: Right.
  wrong: Wrong.
"""  # the quiz starts on line 5, options on line 8

PRACTICE = """\
- id: try
  kind: practice
  prompt: Do it.
  hint: Not that.
  success: Done.
"""  # the practice starts on line 5; add "expect" and more below


@pytest.mark.parametrize(
    ("steps", "line", "message"),
    [
        pytest.param(QUIZ, 5, "the quiz has no right answer", id="no right answer"),
        pytest.param(
            QUIZ + "  answer: 3\n",
            11,
            '"answer" is 3 but the options are numbered 1 to 2',
            id="answer out of range",
        ),
        pytest.param(
            QUIZ + "  answer: 0\n",
            11,
            '"answer" is 0 but the options are numbered 1 to 2',
            id="answer counted from zero",
        ),
        pytest.param(
            QUIZ + "  answer: two\n", 11, '"answer" must be the number', id="answer not a number"
        ),
        pytest.param(
            QUIZ.replace("[Blue, Green]", "[Blue]") + "  answer: 1\n",
            8,
            "a quiz needs 2 to 4 options, not 1",
            id="one option",
        ),
        pytest.param(
            QUIZ.replace("[Blue, Green]", "[a, b, c, d, e]") + "  answer: 1\n",
            8,
            "a quiz needs 2 to 4 options, not 5",
            id="five options",
        ),
        pytest.param(
            PRACTICE + "  expect: picture\n",
            10,
            '"expect" must be one of: photo, voice, ',
            id="unknown expect",
        ),
        pytest.param(
            PRACTICE + "  expect: text\n",
            5,
            'a text practice needs a "pattern"',
            id="text practice without pattern",
        ),
        pytest.param(
            PRACTICE + "  expect: text\n  pattern: '(oops'\n",
            11,
            '"pattern" is not a pattern the coach can run: RE2 cannot use it: missing ): (oops',
            id="regex that does not compile",
        ),
        pytest.param(
            PRACTICE + "  expect: text\n  pattern: '(a+)\\1'\n",
            11,
            "RE2 cannot use it: invalid escape sequence: \\1",
            id="backreference, which only a backtracking engine can run",
        ),
        pytest.param(
            PRACTICE + "  expect: text\n  pattern: '(?=ok)'\n",
            11,
            "RE2 cannot use it: invalid perl operator: (?=",
            id="lookahead",
        ),
        pytest.param(
            PRACTICE + "  expect: text\n  pattern: '\\bok'\n",
            11,
            "\\b only knows English letters",
            id="word boundary that misses other scripts",
        ),
        pytest.param(
            PRACTICE + "  expect: reply\n",
            10,
            'a reply practice needs a "target"',
            id="reply without target",
        ),
        pytest.param(
            PRACTICE + "  expect: forward\n",
            10,
            'a forward practice needs a "target"',
            id="forward without target",
        ),
        pytest.param(
            PRACTICE + "  expect: photo\n  target: Hi\n",
            11,
            '"target" is only used when "expect" is reply or forward',
            id="target on a photo task",
        ),
        pytest.param(
            PRACTICE + "  expect: photo\n  pattern: hi\n",
            11,
            '"pattern" is only used when "expect" is text',
            id="pattern on a photo task",
        ),
    ],
)
def test_a_broken_quiz_or_practice_is_named_with_its_line(
    tmp_path: Path, steps: str, line: int, message: str
) -> None:
    problem = the_problem(course_with(tmp_path, steps))
    assert (problem.file, problem.line) == (LESSON_FILE, line)
    assert message in problem.message


def test_a_misspelt_field_is_reported_with_the_missing_one(tmp_path: Path) -> None:
    steps = QUIZ.replace("question:", "qestion:") + "  answer: 1\n"
    assert problems_in(course_with(tmp_path, steps)) == [
        f'{LESSON_FILE}:5: step "pick": "question" is missing',
        f'{LESSON_FILE}:7: step "pick": unknown field "qestion"; did you mean "question"?',
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        pytest.param("minutes: 2", "minutes: 12", 3, '"minutes" must be from 1 to 10, not 12'),
        pytest.param("minutes: 2", "minutes: two", 3, '"minutes" must be a whole number'),
        pytest.param("minutes: 2\n", "", 1, 'lesson: "minutes" is missing', id="no minutes"),
        pytest.param("id: hello", "id: helo", 1, 'id "helo" must match the file name hello.yaml'),
        pytest.param("title: Hello", "title: Hi\ncompetence: 7.1", 3, "a DigComp 2.2 code"),
        pytest.param("title: Hello", "title: Hi\nsummary: Hi", 3, 'unknown field "summary"'),
        pytest.param("steps:\n" + GOOD_STEP, "steps: []\n", 4, '"steps" is empty', id="no steps"),
        pytest.param("title: Hello", 'title: "Hello', 2, "a quote is never closed"),
        pytest.param("title: Hello", "title: Hello: there", 2, '": " must be in quotes'),
        pytest.param("title: Hello", "title: Hi\n\tcolour: red", 3, "spaces, not tabs"),
    ],
)
def test_a_broken_lesson_header_is_named_with_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    lesson = (HEADER + GOOD_STEP).replace(old, new)
    problem = the_problem(course_with(tmp_path, files={"warmup/hello.yaml": lesson}))
    assert (problem.file, problem.line) == (LESSON_FILE, line)
    assert message in problem.message


def test_yes_and_no_stay_text_in_options(tmp_path: Path) -> None:
    steps = QUIZ.replace("[Blue, Green]", "[Yes, No]") + "  answer: 1\n"
    quiz = load_course(course_with(tmp_path, steps)).lessons[0].steps[0]
    assert isinstance(quiz, QuizStep) and quiz.options == ("Yes", "No")


def test_a_competence_written_as_a_number_is_read_as_its_code(tmp_path: Path) -> None:
    lesson = (HEADER + GOOD_STEP).replace("minutes: 2", "minutes: 2\ncompetence: 2.1")
    course = load_course(course_with(tmp_path, files={"warmup/hello.yaml": lesson}))
    assert course.lessons[0].competence == "2.1"


def manifest_problem(tmp_path: Path, manifest: str, files: dict[str, str | bytes]) -> Problem:
    return the_problem(course_with(tmp_path, files={"course.yaml": manifest, **files}))


def test_a_listed_lesson_without_a_file_is_a_broken_reference(tmp_path: Path) -> None:
    problem = manifest_problem(tmp_path, MANIFEST + "      - goodbye\n", {})
    assert (problem.file, problem.line) == (MANIFEST_FILE, 9)
    assert 'lesson "goodbye" has no file warmup/goodbye.yaml: there is no such file' in str(problem)


def test_a_lesson_file_in_the_wrong_folder_says_where_it_is(tmp_path: Path) -> None:
    moved = HEADER.replace("hello", "goodbye") + GOOD_STEP
    problem = manifest_problem(
        tmp_path, MANIFEST + "      - goodbye\n", {"misc/goodbye.yml": moved}
    )
    assert (problem.file, problem.line) == (MANIFEST_FILE, 9)
    assert "it is in misc/goodbye.yml; move or rename it" in problem.message


def test_a_lesson_file_not_in_the_manifest_is_reported(tmp_path: Path) -> None:
    extra = HEADER.replace("hello", "extra") + GOOD_STEP
    problem = manifest_problem(tmp_path, MANIFEST, {"warmup/extra.yaml": extra})
    assert str(problem) == (
        'curriculum/warmup/extra.yaml:1: this lesson is not listed in course.yaml; add "extra" '
        "to the lessons of its module"
    )


def test_a_lesson_listed_twice_is_reported_at_the_second_listing(tmp_path: Path) -> None:
    manifest = MANIFEST + "  - id: more\n    title: More\n    lessons: [hello]\n"
    problem = manifest_problem(tmp_path, manifest, {})
    assert str(problem) == (
        f'{MANIFEST_FILE}:11: module "more": lesson "hello" is listed twice (first on line 8)'
    )


def test_a_module_listed_twice_is_reported_at_its_second_id(tmp_path: Path) -> None:
    manifest = MANIFEST + "  - id: warmup\n    title: Again\n    lessons: [bye]\n"
    problem = manifest_problem(tmp_path, manifest, {})
    assert str(problem) == (
        f'{MANIFEST_FILE}:9: module "warmup": this module id is used twice (first on line 5)'
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        pytest.param("source_language: en", "source_language: English", 3, "a language code"),
        pytest.param("title: Test course\n", "", 1, 'course: "title" is missing'),
        pytest.param("modules:", "moduls:", 4, 'did you mean "modules"?', id="typo"),
        pytest.param("lessons:\n      - hello", "lessons: hello", 7, '"lessons" must be a list'),
    ],
)
def test_a_broken_manifest_is_named_with_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    root = course_with(tmp_path, files={"course.yaml": MANIFEST.replace(old, new)})
    problems = [p for p in check_course(root)[1] if p.file == MANIFEST_FILE]
    assert any(p.line == line and message in p.message for p in problems), problems


def test_a_folder_without_a_manifest_says_so(tmp_path: Path) -> None:
    assert problems_in(tmp_path / "curriculum") == [f"{MANIFEST_FILE}:1: file not found"]


def test_problems_show_a_relative_path_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course_with(tmp_path, "- id: hi\n  kind: message\n")
    monkeypatch.chdir(tmp_path)
    assert problems_in(Path("curriculum/course.yaml")) == [
        f'{LESSON_FILE}:5: step "hi": "text" is missing'
    ]

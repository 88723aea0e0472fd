"""Read the trainers' curriculum folder into a Course, reporting every problem with its line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path, PurePosixPath

from bot.course.chat_text import CAPTION_LIMIT, chat_length
from bot.course.model import (
    CheckpointStep,
    Course,
    Lesson,
    Media,
    MediaKind,
    MessageStep,
    Module,
    Step,
)
from bot.course.pictures import SOURCES, webp_of, webp_problem
from bot.course.placement import read_placement
from bot.course.problems import CourseError, Problem
from bot.course.steps import practice_step, quiz_step
from bot.course.timing import timing_problems
from bot.course.variants import with_variants
from bot.course.yaml_lines import Fields, LineDict, parse_yaml

__all__ = ["CourseError", "Problem", "check_course", "load_course"]

MANIFEST = "course.yaml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]+)?$")
MEDIA_LIMIT = 5 * 1024 * 1024
ALT_LIMIT = 300  # a picture's description: a sentence or two
MEDIA_SUFFIXES = {
    MediaKind.IMAGE: SOURCES,  # the coach makes the WebP for phones from it (pictures.py)
    MediaKind.AUDIO: (".ogg", ".mp3", ".m4a", ".wav"),
}
COMPETENCES = frozenset(
    f"{area}.{n}"
    for area, count in ((1, 3), (2, 6), (3, 4), (4, 4), (5, 4))
    for n in range(1, count + 1)
)
STEP_FIELDS = {
    "message": ("text", "image", "audio", "alt"),
    "quiz": ("question", "options", "answer", "right", "wrong"),
    "practice": ("expect", "prompt", "hint", "success", "pattern", "target"),
    "checkpoint": ("text",),
}
KINDS = ", ".join(STEP_FIELDS)
UNLISTED = f'this lesson is not listed in {MANIFEST}; add "{{id}}" to the lessons of its module'


def load_course(path: Path) -> Course:
    """Load a curriculum folder (or its course.yaml); raise CourseError if anything is wrong."""
    course, problems = check_course(path)
    if course is None:
        raise CourseError(problems)
    return course


def check_course(path: Path, *, pictures: bool = False) -> tuple[Course | None, list[Problem]]:
    """Collect every problem in one pass; the course comes back only when there are none.

    ``pictures``: also the lesson pictures whose WebP is missing or was made from an older
    file, after the rest. The course loads without them (the web chat shows such a picture's
    own file), but ``coach curriculum check`` reports them, so the WebP is made before it is
    needed."""
    reader = _CourseReader(path)
    course = reader.read()
    problems = _in_order(reader.problems) + (_in_order(reader.pictures) if pictures else [])
    return (None if problems else course), problems


def _in_order(problems: list[Problem]) -> list[Problem]:
    files = list(dict.fromkeys(problem.file for problem in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line))


class _CourseReader:
    """One pass over a curriculum folder: the manifest, then each lesson it lists."""

    def __init__(self, path: Path) -> None:
        self.root = path.parent if path.name == MANIFEST else path
        self.shown_root = Path(self.root.name) if path.is_absolute() else self.root
        self.problems: list[Problem] = []
        self.pictures: list[Problem] = []  # WebPs to make, reported once a picture
        self.pictured: set[str] = set()
        self.accounted: set[Path] = set()
        self.seen_lessons: dict[str, int] = {}

    def shown(self, relative: str) -> str:
        return (self.shown_root / relative).as_posix()

    def read(self) -> Course | None:
        data = self.read_yaml(MANIFEST)
        if data is None:
            return None
        fields = Fields(data, self.shown(MANIFEST), "course", self.problems)
        fields.check_known(("id", "title", "source_language", "modules", "placement"))
        course_id, title = fields.slug("id", SLUG), fields.text("title")
        language = fields.text("source_language")
        if language and not LANGUAGE.match(language):
            fields.problem("source_language", f'"{language}" is not a language code like "en"')
        modules = self.read_modules(fields)
        placement = read_placement(fields, [module.id for module in modules])
        self.report_unlisted()
        return Course(course_id, title, language, modules, placement)

    def read_yaml(self, relative: str) -> LineDict | None:
        file, path = self.shown(relative), self.root / relative
        self.accounted.add(path)
        try:
            data, problems = parse_yaml(path.read_text(encoding="utf-8"), file)
        except FileNotFoundError:
            data, problems = None, [Problem(file, 1, "file not found")]
        except UnicodeDecodeError:
            data, problems = (
                None,
                [Problem(file, 1, "the file is not UTF-8 text; save it as UTF-8")],
            )
        if data is None and not problems:
            problems.append(Problem(file, 1, "the file is empty"))
        elif data is not None and not isinstance(data, LineDict):
            problems.append(Problem(file, 1, 'the file must hold fields like "id: ..."'))
        self.problems.extend(problems)
        return data if isinstance(data, LineDict) else None

    def read_modules(self, course: Fields) -> tuple[Module, ...]:
        modules: list[Module] = []
        seen: dict[str, int] = {}
        for index, (item, line) in enumerate(course.lines("modules"), 1):
            if not isinstance(item, LineDict):
                course.problem_at(line, f'module {index} must hold fields like "id: ..."')
                continue
            label = (
                f'module "{item["id"]}"' if isinstance(item.get("id"), str) else f"module {index}"
            )
            fields = Fields(item, course.file, label, self.problems)
            fields.check_known(("id", "title", "lessons"))
            module_id, title = fields.slug("id", SLUG), fields.text("title")
            if module_id in seen:
                fields.problem(
                    "id", f"this module id is used twice (first on line {seen[module_id]})"
                )
            elif module_id:
                seen[module_id] = item.line_of("id")
                modules.append(Module(module_id, title, self.read_lessons(fields, module_id)))
        return tuple(modules)

    def read_lessons(self, module: Fields, module_id: str) -> tuple[Lesson, ...]:
        lessons: list[Lesson] = []
        for item, line in module.lines("lessons"):
            lesson_id = module.as_slug(item, line, "a lesson id", SLUG)
            if lesson_id in self.seen_lessons:
                first = self.seen_lessons[lesson_id]
                module.problem_at(
                    line, f'lesson "{lesson_id}" is listed twice (first on line {first})'
                )
            elif lesson_id:
                self.seen_lessons[lesson_id] = line
                lessons += self.find_lesson(module, line, module_id, lesson_id)
        return tuple(lessons)

    def find_lesson(
        self, module: Fields, line: int, module_id: str, lesson_id: str
    ) -> list[Lesson]:
        relative = f"{module_id}/{lesson_id}.yaml"
        if (self.root / relative).is_file():
            return [_LessonReader(self, relative, module_id, lesson_id).read()]
        elsewhere = [
            p
            for p in sorted(self.root.glob(f"*/{lesson_id}.y*ml"))
            if p.suffix in (".yaml", ".yml")
        ]
        self.accounted.update(elsewhere)
        found = "there is no such file"
        if elsewhere:
            found = f"it is in {elsewhere[0].relative_to(self.root).as_posix()}; move or rename it"
        module.problem_at(line, f'lesson "{lesson_id}" has no file {relative}: {found}')
        return []

    def report_unlisted(self) -> None:
        for path in sorted(self.root.glob("*/*.y*ml")):
            relative = path.relative_to(self.root)
            hidden = any(part.startswith(".") for part in relative.parts)
            if path.suffix in (".yaml", ".yml") and path not in self.accounted and not hidden:
                message = UNLISTED.format(id=path.stem)
                self.problems.append(Problem(self.shown(relative.as_posix()), 1, message))


class _LessonReader:
    """Reads one lesson file and its steps."""

    def __init__(
        self, course: _CourseReader, relative: str, module_id: str, lesson_id: str
    ) -> None:
        self.course, self.relative, self.file = course, relative, course.shown(relative)
        self.module_id, self.lesson_id = module_id, lesson_id

    def read(self) -> Lesson:
        data = self.course.read_yaml(self.relative)
        if data is None:
            return Lesson(self.lesson_id, self.module_id, "", 0, ())
        fields = Fields(data, self.file, "lesson", self.course.problems)
        fields.check_known(("id", "title", "minutes", "competence", "notes", "steps"))
        file_id = fields.slug("id", SLUG)
        if file_id and file_id != self.lesson_id:
            fields.problem("id", f'id "{file_id}" must match the file name {self.lesson_id}.yaml')
        title, minutes = fields.text("title"), fields.integer("minutes", 1, 10)
        competence, notes = _competence(fields), fields.optional_text("notes")
        steps = self.read_steps(fields)
        lesson = Lesson(self.lesson_id, self.module_id, title, minutes, steps, competence, notes)
        self.course.problems += timing_problems(lesson, data, self.file)
        return lesson

    def read_steps(self, lesson: Fields) -> tuple[Step, ...]:
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for index, (item, line) in enumerate(lesson.lines("steps"), 1):
            if not isinstance(item, LineDict):
                lesson.problem_at(
                    line, f'step {index} must hold fields like "id: ..." and "kind: ..."'
                )
                continue
            label = f'step "{item["id"]}"' if isinstance(item.get("id"), str) else f"step {index}"
            fields = Fields(item, self.file, label, self.course.problems)
            step_id = fields.slug("id", SLUG)
            if step_id in seen:
                fields.problem("id", f"this step id is used twice (first on line {seen[step_id]})")
            elif step_id:
                seen[step_id] = item.line_of("id")
            steps += self.read_step(fields, step_id)
        return tuple(steps)

    def read_step(self, fields: Fields, step_id: str) -> list[Step]:
        kind = fields.get("kind")
        if "kind" not in fields:
            fields.problem(None, f'"kind" is missing; use one of: {KINDS}')
            return []
        if not isinstance(kind, str) or kind not in STEP_FIELDS:
            fields.problem("kind", f'unknown step kind "{kind}"; use one of: {KINDS}')
            return []
        fields.check_known(("id", "kind", *STEP_FIELDS[kind], "on"))
        step: Step
        if kind == "message":
            step = self.message(fields, step_id)
        elif kind == "quiz":
            step = quiz_step(fields, step_id)
        elif kind == "practice":
            step = practice_step(fields, step_id)
        else:
            step = CheckpointStep(step_id, fields.text("text"))
        return [with_variants(fields, kind, step)]

    def message(self, fields: Fields, step_id: str) -> MessageStep:
        media, text = self.media(fields, step_id), fields.text("text")
        captioned = any(kind.value in fields for kind in MediaKind)
        if captioned and (size := chat_length(text)) > CAPTION_LIMIT:
            fields.problem(
                "text",
                f'"text" is too long to go with an image or audio: {size} > {CAPTION_LIMIT} '
                "(it is sent as a caption)",
            )
        return MessageStep(step_id, text, media)

    def media(self, fields: Fields, step_id: str) -> Media | None:
        kinds = [kind for kind in MediaKind if kind.value in fields]
        if len(kinds) > 1:
            fields.problem("audio", "a message can have an image or an audio, not both")
        alt = _alt(fields, kinds)
        if len(kinds) != 1 or not (relative := fields.text(kinds[0].value)):
            return None
        kind, key, path = kinds[0], kinds[0].value, PurePosixPath(relative)
        suffixes, file = MEDIA_SUFFIXES[kind], self.course.root / path
        if path.is_absolute() or ".." in path.parts or "\\" in relative:
            fields.problem(key, f'"{key}" must be a path inside the curriculum folder: media/a.png')
        elif kind is MediaKind.IMAGE and path.suffix.lower() == ".webp":
            fields.problem(
                key,
                f'"{key}" names the PNG or JPEG the picture is made from, not {relative}: '
                f'the coach makes the WebP from it ("coach curriculum pictures")',
            )
        elif path.suffix.lower() not in suffixes:
            fields.problem(key, f'"{key}" must be a {", ".join(suffixes)} file, not {relative}')
        elif not file.is_file():
            fields.problem(
                key, f"media file not found: {relative} (paths start at the curriculum folder)"
            )
        elif (size := file.stat().st_size) > MEDIA_LIMIT:
            fields.problem(key, f"{relative} is too big: {size / 2**20:.1f} MB, max 5 MB")
        else:
            context = f"{self.lesson_id}/{step_id}/alt" if alt else None
            media = Media(kind, path.as_posix(), size, alt, context)
            return self.with_webp(media, fields, key) if kind is MediaKind.IMAGE else media
        return None

    def with_webp(self, media: Media, fields: Fields, key: str) -> Media:
        """The picture with its WebP for phones when that is current; otherwise noted for
        the check (once a picture) and shown as it is."""
        source = PurePosixPath(media.path)
        problem = webp_problem(self.course.root, source)
        if problem is None:
            webp = webp_of(source)
            size = (self.course.root / webp).stat().st_size
            return replace(media, webp=webp.as_posix(), webp_size=size)
        if media.path not in self.course.pictured:  # reported to the check, not refused
            fields = Fields(fields.data, fields.file, fields.what, self.course.pictures)
            self.course.pictured.add(media.path)
            fields.problem_at(fields.data.line_of(key), problem)
        return media


def _alt(fields: Fields, kinds: list[MediaKind]) -> str | None:
    """A picture's description: required with an image, allowed with an audio."""
    if "alt" in fields and not kinds:
        fields.problem("alt", '"alt" describes an image or an audio; this message has neither')
    elif MediaKind.IMAGE in kinds and "alt" not in fields:
        fields.problem(
            "image",
            'an image needs "alt": a short description of the picture, said to learners '
            "who do not get the picture (text only, or a group without pictures)",
        )
    return fields.optional_text("alt", ALT_LIMIT) if kinds else None


def _competence(fields: Fields) -> str | None:
    value = fields.get("competence")
    code = str(value) if isinstance(value, str | float) else None
    if "competence" in fields and code not in COMPETENCES:
        fields.problem(
            "competence", f'"competence" must be a DigComp 2.2 code like "2.1", not "{value}"'
        )
    return code if code in COMPETENCES else None

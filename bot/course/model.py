"""The course as immutable data: what the loader builds and the core reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.course.placement import PlacementQuestion


class PracticeKind(StrEnum):
    """What a practice step expects the learner to send."""

    PHOTO = "photo"
    VOICE = "voice"
    VIDEO_NOTE = "video_note"
    LOCATION = "location"
    CONTACT = "contact"
    DOCUMENT = "document"
    REPLY = "reply"
    FORWARD = "forward"
    TEXT = "text"


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


@dataclass(frozen=True)
class Media:
    """A file shipped with the curriculum, shown with a step."""

    kind: MediaKind
    path: str
    size: int
    alt: str | None = None  # a short description, said where the picture is not shown
    alt_context: str | None = None  # the description's place in the curriculum catalog
    webp: str | None = None  # the picture made for phones from this file, when it is current
    webp_size: int = 0

    def sent(self, takes_webp: bool) -> tuple[str, int]:
        """The path and size of the file a channel gets: the WebP where the channel shows
        WebP and a current one is there, the trainers' own file everywhere else."""
        if takes_webp and self.webp is not None:
            return self.webp, self.webp_size
        return self.path, self.size


@dataclass(frozen=True)
class MessageStep:
    id: str
    text: str
    media: Media | None = None


@dataclass(frozen=True)
class QuizStep:
    id: str
    question: str
    options: tuple[str, ...]
    answer: int
    right: str
    wrong: str


@dataclass(frozen=True)
class PracticeStep:
    id: str
    prompt: str
    expect: PracticeKind
    hint: str
    success: str
    pattern: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class CheckpointStep:
    id: str
    recap: str


Step = MessageStep | QuizStep | PracticeStep | CheckpointStep


@dataclass(frozen=True)
class Lesson:
    id: str
    module_id: str
    title: str
    minutes: int
    steps: tuple[Step, ...]
    competence: str | None = None
    notes: str | None = None

    def step_index(self, step_id: str) -> int | None:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        return None

    def step(self, step_id: str) -> Step | None:
        index = self.step_index(step_id)
        return self.steps[index] if index is not None else None


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    lessons: tuple[Lesson, ...]


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    source_language: str
    modules: tuple[Module, ...]
    placement: tuple[PlacementQuestion, ...] = ()
    _lessons: dict[str, Lesson] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for module in self.modules:
            for lesson in module.lessons:
                self._lessons[lesson.id] = lesson

    @property
    def lessons(self) -> tuple[Lesson, ...]:
        return tuple(lesson for module in self.modules for lesson in module.lessons)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._lessons.get(lesson_id)

    def module(self, module_id: str) -> Module | None:
        return next((m for m in self.modules if m.id == module_id), None)

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        ordered = self.lessons
        for index, lesson in enumerate(ordered):
            if lesson.id == lesson_id and index + 1 < len(ordered):
                return ordered[index + 1]
        return None

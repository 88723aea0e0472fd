"""A learner's state as the core sees it: plain, immutable data."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from bot.core.nudges import NudgeState
from bot.core.review import Reviews


class LearnerStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class LessonStatus(StrEnum):
    STARTED = "started"
    DONE = "done"


@dataclass(frozen=True)
class LessonProgress:
    lesson_id: str
    status: LessonStatus
    step_id: str | None
    score: int
    started_at: datetime
    finished_at: datetime | None = None
    step_attempts: int = 0


class RequestStatus(StrEnum):
    INTAKE = "intake"
    OPEN = "open"
    CLAIMED = "claimed"
    RATING = "rating"
    COMMENT = "comment"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class HelpRequest:
    """The learner's request for a person, while it is going on.

    ``in_lessons``: a volunteer holds the request, and the learner went back to the lessons;
    otherwise everything they send goes to the volunteer.
    """

    status: RequestStatus
    id: int | None = None
    step: str | None = None
    topic: str | None = None
    topic_text: str | None = None
    place: str | None = None
    slot: datetime | None = None
    share_name: bool = False
    volunteer: str | None = None
    in_lessons: bool = False

    @property
    def active(self) -> bool:
        return self.status in (RequestStatus.INTAKE, RequestStatus.OPEN, RequestStatus.CLAIMED)

    @property
    def relaying(self) -> bool:
        """A volunteer holds the request and the learner talks to them."""
        return self.status is RequestStatus.CLAIMED and not self.in_lessons


@dataclass(frozen=True)
class LearnerState:
    """Everything the core needs to decide the next step for one learner.

    ``choices`` are the payloads of the options last offered, in order, so a typed
    number means the same as pressing that button. ``seed`` is stable for the learner
    (their stored id) and orders their quiz options.
    """

    language: str | None = None
    status: LearnerStatus = LearnerStatus.ACTIVE
    current_lesson: str | None = None
    choices: tuple[str, ...] = ()
    progress: dict[str, LessonProgress] = field(default_factory=dict)
    streak_days: int = 0
    last_active_day: date | None = None
    first_name: str | None = None
    timezone: str = "UTC"
    nudge: NudgeState = field(default_factory=NudgeState)
    reviews: Reviews = ()
    text_only: bool = False
    request: HelpRequest | None = None
    seed: int = 0

    def nudge_view(self) -> NudgeState:
        """The nudge state with what the learner record says about zone and stopping."""
        return replace(
            self.nudge, timezone=self.timezone, stopped=self.status is LearnerStatus.STOPPED
        )

    def lesson_progress(self, lesson_id: str) -> LessonProgress | None:
        return self.progress.get(lesson_id)

    def with_progress(self, item: LessonProgress) -> LearnerState:
        return replace(self, progress={**self.progress, item.lesson_id: item})

    def done_lessons(self) -> set[str]:
        return {k for k, v in self.progress.items() if v.status is LessonStatus.DONE}

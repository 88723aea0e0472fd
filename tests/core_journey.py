"""A learner talking to the pure core, with replies rendered in English."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.effects import Effect, Record, Reply
from bot.core.events import Inbound
from bot.core.rules import Rules
from bot.core.state import LearnerState
from bot.core.turn import step
from bot.course.model import Course
from bot.i18n import Catalogs
from tests.builders import LANGUAGES, NOW, sample_course

ENGLISH = Catalogs(Path("/nonexistent"), list(LANGUAGES), "en")


@dataclass
class CoreJourney:
    course: Course = field(default_factory=sample_course)
    state: LearnerState = field(default_factory=LearnerState)
    now: datetime = NOW
    rules: Rules = field(default_factory=lambda: Rules(LANGUAGES))
    effects: list[Effect] = field(default_factory=list)

    def send(self, event: Inbound) -> list[str]:
        """Hand the event to the core; the texts the coach says back."""
        self.state, self.effects = step(self.state, event, self.course, self.now, self.rules)
        return self.texts()

    def texts(self) -> list[str]:
        return ["\n".join(ENGLISH.render(p, "en") for p in r.parts) for r in self.replies()]

    def replies(self) -> list[Reply]:
        """What a channel that cannot edit messages shows."""
        return [e for e in self.effects if isinstance(e, Reply) and not e.edit_only]

    def buttons(self) -> list[str]:
        """The labels of the options offered last."""
        offered = [r for r in self.replies() if r.choices]
        return [ENGLISH.render(c.label, "en") for c in offered[-1].choices] if offered else []

    def payload_for(self, label: str) -> str:
        offered = [r for r in self.replies() if r.choices][-1]
        for choice in offered.choices:
            if ENGLISH.render(choice.label, "en") == label:
                return choice.payload
        raise AssertionError(f"no button {label!r} in {self.buttons()}")

    def records(self) -> list[str]:
        return [e.name for e in self.effects if isinstance(e, Record)]

"""One event for one learner, with what the core needs to answer it, and the answers every
part of a turn shares: "not understood" and "here is where you are"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.data_cost import GENERIC, Transfer
from bot.core.data_use import DataUse
from bot.core.effects import Effect, Record, Reply
from bot.core.events import Inbound
from bot.core.handoff import pending_question
from bot.core.lesson import Outcome, position, show_step
from bot.core.menus import main_menu
from bot.core.rules import Rules
from bot.core.state import LearnerState
from bot.core.text import Msg
from bot.course.model import Course


@dataclass(frozen=True)
class Turn:
    """One event for one learner, with what the core needs to answer it.

    ``help_link``: where the channel has one, a link that opens a private chat with the coach
    and asks for a person there (``/start help``). ``transfer``: how the channel moves a
    lesson, for the data a lesson costs. ``data_use``: the learner's data the coach used
    lately, counted by the service only for ``/data``.
    """

    state: LearnerState
    event: Inbound
    course: Course
    now: datetime
    rules: Rules
    help_link: str | None = None
    transfer: Transfer = GENERIC
    data_use: DataUse | None = None

    @property
    def languages(self) -> dict[str, str]:
        return self.rules.languages

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.state.timezone)).date()


def not_understood(turn: Turn, why: Msg, reason: str) -> Outcome:
    """Say what went wrong, then show again where the learner is; nothing is lost.

    In a group, talk that was not meant for the coach gets no answer.
    """
    record = Record("input_refused", {"reason": reason, "kind": turn.event.kind.value})
    if turn.event.chatter:
        return turn.state, [record]
    pending = pending_question(turn.state, turn.rules, turn.now)
    where = [pending] if pending is not None else here(turn.state, turn.course)
    return turn.state, [record, Reply((why,)), *where]


def here(state: LearnerState, course: Course) -> list[Effect]:
    """The messages that show the learner where they are: their step, or the menu."""
    if state.language is None:
        return []
    at = position(state, course)
    if at is None:
        return [main_menu(state, course)]
    return show_step(at.lesson, at.step, state)

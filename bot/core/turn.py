"""The core step: ``step(state, event, course, now) -> (state, effects)``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core import payloads
from bot.core.effects import Effect, HandoffAction, Record, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.handoff import (
    ask_for_person,
    comment_written,
    handoff_button,
    is_help_word,
    topic_written,
)
from bot.core.lesson import (
    Outcome,
    Position,
    advance,
    answer_quiz,
    position,
    practice_accepts,
    show_step,
    start_lesson,
    try_practice,
)
from bot.core.menus import language_choice, main_menu, module_menu, progress_report
from bot.core.nudges import after_learner_activity
from bot.core.numbers import payload_number, typed_number
from bot.core.reminders import (
    nudge_button,
    pause_command,
    resume_command,
    review_answer,
    set_timezone,
    timezone_choice,
)
from bot.core.rules import Rules
from bot.core.state import LearnerState, LearnerStatus, RequestStatus
from bot.core.text import N_, Msg
from bot.course.model import Course, PracticeStep, QuizStep

MAX_TEXT = 4096


@dataclass(frozen=True)
class Turn:
    """One event for one learner, with what the core needs to answer it."""

    state: LearnerState
    event: Inbound
    course: Course
    now: datetime
    rules: Rules

    @property
    def languages(self) -> dict[str, str]:
        return self.rules.languages

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.state.timezone)).date()


def step(
    state: LearnerState, event: Inbound, course: Course, now: datetime, rules: Rules
) -> Outcome:
    """Decide what one learner event changes and what the coach says back."""
    if not event.chatter:
        state = replace(state, nudge=after_learner_activity(state.nudge, now))
    turn = Turn(state, event, course, now, rules)
    new_state, effects = _dispatch(turn)
    offered = [e for e in effects if isinstance(e, Reply) and e.choices]
    if offered:
        new_state = replace(new_state, choices=tuple(c.payload for c in offered[-1].choices))
    if event.sender.first_name and new_state.first_name != event.sender.first_name:
        new_state = replace(new_state, first_name=event.sender.first_name)
    return new_state, effects


def _dispatch(turn: Turn) -> Outcome:
    state, event = turn.state, turn.event
    if state.status is LearnerStatus.STOPPED:
        if event.kind is InboundKind.COMMAND and event.command == "start":
            state = replace(state, status=LearnerStatus.ACTIVE)
            return _start(replace(turn, state=state), [Record("learner_resumed")])
        if event.chatter:
            return state, []
        return state, [Reply((N_("You stopped the coach. Send /start to begin again."),))]
    if event.kind is InboundKind.COMMAND:
        return _command(turn)
    if event.kind is InboundKind.BUTTON:
        return _button(turn, event.payload or "")
    if state.language is None and event.chatter:
        return state, []
    if event.kind is InboundKind.TEXT:
        return _text(turn)
    if state.language is None:
        return state, [language_choice(turn.languages)]
    return _media(turn)


def _start(turn: Turn, effects: list[Effect]) -> Outcome:
    state = turn.state
    if state.language is None:
        greeting = Reply(
            (N_("Hello! I am Coach. I help you learn to use your phone, step by step."),)
        )
        return state, [
            *effects,
            Record("learner_started"),
            greeting,
            language_choice(turn.languages),
        ]
    return state, [*effects, Reply((N_("Welcome back!"),)), main_menu(state, turn.course)]


def _command(turn: Turn) -> Outcome:
    state, command = turn.state, turn.event.command
    if command == "start":
        return _start(turn, [])
    if command == "language":
        return state, [language_choice(turn.languages)]
    if state.language is None:
        return state, [language_choice(turn.languages)]
    if command in ("menu", "lessons"):
        return state, [main_menu(state, turn.course)]
    if command == "help":
        return ask_for_person(state, turn.rules)
    if command == "cancel" and state.request is not None and state.request.active:
        outcome = handoff_button(state, "cancel", "-", turn.rules, turn.now)
        if outcome is not None:
            return outcome
    if command == "progress":
        return state, [progress_report(state, turn.course, turn.today)]
    if command == "pause":
        return pause_command(state, turn.event.argument, turn.now)
    if command == "resume":
        return resume_command(state)
    if command == "timezone":
        return state, [timezone_choice(turn.rules, turn.now)]
    if command == "stop":
        stopped = replace(state, status=LearnerStatus.STOPPED, choices=())
        goodbye = N_("OK. I will not send you messages any more. Send /start to come back.")
        return stopped, [Record("learner_stopped"), Reply((goodbye,))]
    return state, [Reply((N_("I don't know this command."),)), main_menu(state, turn.course)]


def _button(turn: Turn, raw: str) -> Outcome:
    state, course = turn.state, turn.course
    payload = payloads.parse(raw)
    if payload is None:
        return _not_understood(turn, N_("This button does not work any more."), "unknown")
    action, args = payload.action, payload.args
    if action == "lang":
        return _set_language(turn, args[0])
    if state.language is None:
        return state, [language_choice(turn.languages)]
    if action == "menu":
        return state, [main_menu(state, course)]
    if action == "language":
        return state, [language_choice(turn.languages)]
    if action == "prog":
        return state, [progress_report(state, course, turn.today)]
    if action == "data":
        return _toggle_text_only(turn)
    if action == "ho":
        if args[0] == "ask":
            return ask_for_person(state, turn.rules)
        outcome = handoff_button(state, args[0], args[1], turn.rules, turn.now)
        if outcome is not None:
            return outcome
    if action == "tz":
        return _set_timezone(turn, args[0])
    if action == "nudge":
        outcome = nudge_button(state, args[0], turn.rules, turn.now)
        return outcome if outcome is not None else (state, here(state, course))
    if action == "rev":
        outcome = review_answer(state, course, args, turn.now)
        if outcome is not None:
            new_state, effects = outcome
            return new_state, [*effects, *here(new_state, course)]
    if action == "mod":
        module = course.module(args[0])
        if module is not None:
            return state, [module_menu(state, module)]
    elif action == "les":
        lesson = course.lesson(args[0])
        if lesson is not None:
            return start_lesson(state, lesson, turn.now)
    else:
        at = position(state, course)
        if at is not None and (at.lesson.id, at.step.id) == args[:2]:
            return _step_action(turn, at, action, args)
    return _not_understood(turn, N_("This button is from an earlier message."), "stale")


def _step_action(turn: Turn, at: Position, action: str, args: tuple[str, ...]) -> Outcome:
    """A button pressed on the current step: next, skip or a quiz answer."""
    if action == "next" and not isinstance(at.step, QuizStep | PracticeStep):
        return advance(turn.state, at, turn.course, turn.now, turn.today)
    if action == "skip" and isinstance(at.step, PracticeStep):
        record = Record("practice_skipped", {"lesson": at.lesson.id, "step": at.step.id})
        state, effects = advance(turn.state, at, turn.course, turn.now, turn.today)
        return state, [record, *effects]
    option = payload_number(args[2]) if action == "ans" else None
    if isinstance(at.step, QuizStep) and option is not None and option < len(at.step.options):
        return answer_quiz(turn.state, at, option, turn.course, turn.now, turn.today)
    return _not_understood(turn, N_("This button is from an earlier message."), "stale")


def _set_language(turn: Turn, code: str) -> Outcome:
    if code not in turn.languages:
        return _not_understood(turn, N_("This button does not work any more."), "unknown")
    first_time = turn.state.language is None
    state = replace(turn.state, language=code)
    effects: list[Effect] = [Record("language_set", {"language": code})]
    if not first_time:
        effects.append(Reply((N_("Done. I will write to you in this language."),)))
        return state, [*effects, main_menu(state, turn.course)]
    welcome = N_("Each lesson takes 1 to 3 minutes. Tap a button, or type its number: 1, 2, 3…")
    effects.append(Reply((welcome,)))
    if len(turn.rules.timezones) > 1:
        return state, [*effects, timezone_choice(turn.rules, turn.now)]
    state = replace(state, timezone=turn.rules.timezones[0])
    return state, [*effects, main_menu(state, turn.course)]


def _toggle_text_only(turn: Turn) -> Outcome:
    """Pictures and sounds off to save data, or on again."""
    state = replace(turn.state, text_only=not turn.state.text_only)
    if state.text_only:
        said = N_("Pictures and sounds are off: lessons cost less data. Tap again to turn them on.")
    else:
        said = N_("Pictures and sounds are on again.")
    record = Record("text_only_set", {"on": state.text_only})
    return state, [record, Reply((said,)), main_menu(state, turn.course)]


def _set_timezone(turn: Turn, index: str) -> Outcome:
    state = set_timezone(turn.state, index, turn.rules)
    if state is None:
        return _not_understood(turn, N_("This button does not work any more."), "unknown")
    said = N_("Thank you. I will write to you only in the daytime.")
    record = Record("timezone_set", {"timezone": state.timezone})
    return state, [record, Reply((said,)), main_menu(state, turn.course)]


def _text(turn: Turn) -> Outcome:
    state, text = turn.state, (turn.event.text or "").strip()
    at = position(state, turn.course)
    if not text:
        return _not_understood(turn, N_("Your message was empty."), "empty")
    if len(text) > MAX_TEXT:
        return _not_understood(turn, N_("Your message is too long for me."), "too_long")
    request, number = state.request, typed_number(text)
    if request is not None and request.step == "other":
        return topic_written(state, text, turn.rules)
    if request is not None and request.status is RequestStatus.COMMENT:
        return comment_written(state, text)
    if is_help_word(text, state.language, turn.rules):
        return ask_for_person(state, turn.rules)
    if request is not None and request.status is RequestStatus.CLAIMED and number is None:
        return state, [HandoffAction("relay", text=text, message_id=turn.event.message_id)]
    if (
        at is not None
        and isinstance(at.step, PracticeStep)
        and practice_accepts(at.step, f"{at.lesson.id}/{at.step.id}", turn.event)
    ):
        return try_practice(state, at, turn.event, turn.course, turn.now, turn.today)
    if number is not None and 1 <= number <= len(state.choices):
        return _button(turn, state.choices[number - 1])
    if state.language is None:
        return state, [language_choice(turn.languages)]
    if number is not None and state.choices:
        wrong_number = N_("Please type a number from 1 to {last}.", last=len(state.choices))
        return _not_understood(turn, wrong_number, "number_out_of_range")
    if at is not None and isinstance(at.step, PracticeStep):
        return try_practice(state, at, turn.event, turn.course, turn.now, turn.today)
    if at is not None and isinstance(at.step, QuizStep):
        last = len(at.step.options)
        ask = N_("Please answer with a button, or type a number from 1 to {last}.", last=last)
        return _not_understood(turn, ask, "text_in_quiz")
    return _not_understood(
        turn, N_("I did not understand. Tap a button or type its number."), "text"
    )


def _media(turn: Turn) -> Outcome:
    at = position(turn.state, turn.course)
    if at is not None and isinstance(at.step, PracticeStep):
        return try_practice(turn.state, at, turn.event, turn.course, turn.now, turn.today)
    request = turn.state.request
    if request is not None and request.status is RequestStatus.CLAIMED:
        relay = HandoffAction(
            "relay", media=turn.event.kind.value, message_id=turn.event.message_id
        )
        return turn.state, [relay]
    return _not_understood(turn, N_("Thank you! I cannot use this here."), "unexpected_media")


def _not_understood(turn: Turn, why: Msg, reason: str) -> Outcome:
    """Say what went wrong, then show again where the learner is; nothing is lost.

    In a group, talk that was not meant for the coach gets no answer.
    """
    record = Record("input_refused", {"reason": reason, "kind": turn.event.kind.value})
    if turn.event.chatter:
        return turn.state, [record]
    return turn.state, [record, Reply((why,)), *here(turn.state, turn.course)]


def here(state: LearnerState, course: Course) -> list[Effect]:
    """The messages that show the learner where they are: their step, or the menu."""
    if state.language is None:
        return []
    at = position(state, course)
    if at is None:
        return [main_menu(state, course)]
    return show_step(at.lesson, at.step, state)

"""Button presses: a payload, or a typed number standing for one, turned into a change."""

from __future__ import annotations

from dataclasses import replace

from bot.core import payloads
from bot.core.effects import Effect, Record, Reply
from bot.core.groups import PRIVATE_HANDOFF, help_in_private
from bot.core.handoff import ask_for_person, handoff_button, leave_relay, pending_question
from bot.core.lesson import Outcome, Position, advance, answer_quiz, position
from bot.core.lesson_gate import go, open_lesson
from bot.core.menus import language_choice, main_menu, module_menu, progress_report
from bot.core.numbers import payload_number
from bot.core.reminders import nudge_button, review_answer, set_timezone, timezone_choice
from bot.core.state import LearnerState, RequestStatus
from bot.core.text import N_, Verbatim
from bot.core.turn_context import Turn, here, not_understood
from bot.core.unclear import flag
from bot.course.model import PracticeStep, QuizStep

# Buttons about the talk with the volunteer; any other takes the learner back to the lessons.
_IN_TALK = (payloads.TALK, payloads.handoff("ask"), payloads.handoff("cancel"))


def press(turn: Turn, raw: str) -> Outcome:
    if raw not in _IN_TALK:
        turn = replace(turn, state=leave_relay(turn.state))
    state, course = turn.state, turn.course
    payload = payloads.parse(raw)
    if payload is None:
        return not_understood(turn, N_("This button does not work any more."), "unknown")
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
    if action == "unc":
        return flag(turn, args[0], args[1])
    if action == "ho":
        if turn.event.sender.group and args[0] in PRIVATE_HANDOFF:
            return state, [help_in_private(turn.help_link)]
        if args[0] == "ask":
            return ask_for_person(state, turn.rules)
        if args[0] == "lessons":
            return state, [*_still_helping(state), *here(state, course)]
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
            return open_lesson(state, lesson, turn.now, turn.transfer)
    elif action in ("go", "gonp"):
        lesson = course.lesson(args[0])
        if lesson is not None:
            return go(state, lesson, turn.now, turn.transfer, pictures=action == "go")
    else:
        at = position(state, course)
        if at is not None and (at.lesson.id, at.step.id) == args[:2]:
            return _step_action(turn, at, action, args)
    return not_understood(turn, N_("This button is from an earlier message."), "stale")


def _still_helping(state: LearnerState) -> list[Effect]:
    """Back in the lessons while a volunteer holds the request: how to answer them."""
    request = state.request
    if request is None or request.status is not RequestStatus.CLAIMED:
        return []
    said = N_("OK. When the volunteer writes, you can answer with the button under the message.")
    if request.volunteer:
        said = N_(
            "OK. When {name} writes, you can answer with the button under the message.",
            name=Verbatim(request.volunteer),
        )
    return [Reply((said,))]


def _menu_or_question(turn: Turn, state: LearnerState) -> Reply:
    """The menu, or the question about a request for a person the learner has not answered."""
    pending = pending_question(state, turn.rules, turn.now)
    return pending if pending is not None else main_menu(state, turn.course)


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
    return not_understood(turn, N_("This button is from an earlier message."), "stale")


def _set_language(turn: Turn, code: str) -> Outcome:
    if code not in turn.languages:
        return not_understood(turn, N_("This button does not work any more."), "unknown")
    first_time = turn.state.language is None
    state = replace(turn.state, language=code)
    effects: list[Effect] = [Record("language_set", {"language": code})]
    if not first_time:
        effects.append(Reply((N_("Done. I will write to you in this language."),)))
        return state, [*effects, _menu_or_question(turn, state)]
    welcome = N_("Each lesson takes 1 to 3 minutes. Tap a button, or type its number: 1, 2, 3…")
    effects.append(Reply((welcome,)))
    if len(turn.rules.timezones) > 1:
        return state, [*effects, timezone_choice(turn.rules, turn.now)]
    state = replace(state, timezone=turn.rules.timezones[0])
    return state, [*effects, _menu_or_question(turn, state)]


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
        return not_understood(turn, N_("This button does not work any more."), "unknown")
    said = N_("Thank you. I will write to you only in the daytime.")
    record = Record("timezone_set", {"timezone": state.timezone})
    return state, [record, Reply((said,)), _menu_or_question(turn, state)]

"""The core step: ``step(state, event, course, now) -> (state, effects)``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.data_cost import GENERIC, Transfer
from bot.core.data_use import COMMAND as DATA_COMMAND
from bot.core.data_use import DataUse, data_use_reply, is_data_word
from bot.core.effects import Effect, HandoffAction, Record, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.groups import help_in_private
from bot.core.handoff import (
    ask_for_person,
    comment_written,
    handoff_button,
    is_help_word,
    leave_relay,
    topic_written,
)
from bot.core.lesson import (
    Outcome,
    position,
    practice_accepts,
    try_practice,
)
from bot.core.menus import language_choice, main_menu, progress_report
from bot.core.nudges import after_learner_activity
from bot.core.numbers import typed_number
from bot.core.placement import at_first_contact, press_or_answer
from bot.core.privacy import (
    PAYLOADS,
    forget_answer,
    forget_question,
    is_forget_word,
    my_data,
    privacy_notice,
)
from bot.core.reminders import (
    is_stop_word,
    pause_command,
    resume_command,
    timezone_choice,
)
from bot.core.rules import Rules
from bot.core.state import HelpRequest, LearnerState, LearnerStatus, RequestStatus
from bot.core.text import N_
from bot.core.turn_context import Turn, here, not_understood
from bot.core.unclear import drafts_notice, with_unclear
from bot.course.model import Course, PracticeStep, QuizStep

MAX_TEXT = 4096
HELP_START = "help"  # ``/start help``: a link from a group opens a private chat to ask for a person
# Commands about the request for a person; any other takes the learner back to the lessons.
REQUEST_COMMANDS = ("help", "cancel", "stop")
# Commands about what the coach keeps; they work for a learner who stopped the coach too.
PRIVACY_COMMANDS = ("forget", "delete", "privacy", "mydata")


def step(
    state: LearnerState,
    event: Inbound,
    course: Course,
    now: datetime,
    rules: Rules,
    *,
    help_link: str | None = None,
    transfer: Transfer = GENERIC,
    data_use: DataUse | None = None,
) -> Outcome:
    """Decide what one learner event changes and what the coach says back.

    ``data_use``: for ``/data`` (or its words), what the learner's data paid for lately."""
    if not event.chatter:
        state = replace(state, nudge=after_learner_activity(state.nudge, now))
    turn = Turn(state, event, course, now, rules, help_link, transfer, data_use)
    new_state, effects = _dispatch(turn)
    if state.language is None and new_state.language is not None:
        effects = _with_notice(effects, rules, new_state.language)
    if not event.sender.group:  # a group gets short messages: one line more for everyone
        effects = with_unclear(effects, new_state.language, rules)
    effects = at_first_contact(state, new_state, event, course, effects)
    offered = [e for e in effects if isinstance(e, Reply) and e.choices]
    if offered:
        new_state = replace(new_state, choices=tuple(c.payload for c in offered[-1].choices))
    if event.sender.first_name and new_state.first_name != event.sender.first_name:
        new_state = replace(new_state, first_name=event.sender.first_name)
    return new_state, effects


def _with_notice(effects: list[Effect], rules: Rules, language: str) -> list[Effect]:
    """The privacy notice, right after the language is chosen, so it is in that language:
    under the first words said in it (one message more would cost a bridged group a post);
    in a language whose translations are drafts, the line that says so."""
    notice = privacy_notice(rules)
    drafts = drafts_notice(language, rules)
    if drafts is not None:
        notice = replace(notice, parts=(*notice.parts, drafts))
    for index, effect in enumerate(effects):
        if isinstance(effect, Reply) and not effect.choices and effect.media is None:
            joined = replace(effect, parts=(*effect.parts, *notice.parts))
            return [*effects[:index], joined, *effects[index + 1 :]]
    return [*effects, notice]


def _privacy(turn: Turn) -> Outcome | None:
    """``/forget`` and its answer (a button or its number), ``/privacy``, ``/mydata``."""
    state, event = turn.state, turn.event
    if event.kind is InboundKind.COMMAND and event.command in PRIVACY_COMMANDS:
        if event.command == "privacy":
            return state, [privacy_notice(turn.rules)]
        if event.command == "mydata":
            return state, [my_data(state, turn.course, turn.rules, turn.now)]
        return state, [forget_question()]
    payload = event.payload if event.kind is InboundKind.BUTTON else None
    typed = event.kind is InboundKind.TEXT and not event.chatter
    number = typed_number(event.text or "") if typed else None
    if number is not None and 1 <= number <= len(state.choices):
        payload = state.choices[number - 1]
    if payload in PAYLOADS:
        return forget_answer(state, payload)
    return None


def _dispatch(turn: Turn) -> Outcome:
    state, event = turn.state, turn.event
    privacy = _privacy(turn)
    if privacy is not None:
        return privacy
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
        return press_or_answer(turn, event.payload or "")
    if state.language is None and event.chatter:
        return state, []
    if event.kind is InboundKind.TEXT:
        return _text(turn)
    if state.language is None:
        return state, [language_choice(turn.languages)]
    return _media(turn)


def _start(turn: Turn, effects: list[Effect]) -> Outcome:
    """``/start``; ``/start help`` asks for a person at once (after the language, if new)."""
    state = leave_relay(turn.state)
    asks = turn.event.argument == HELP_START and not turn.event.sender.group
    if state.language is None:
        if asks and (state.request is None or not state.request.active):
            draft = HelpRequest(RequestStatus.INTAKE, step="topic")
            state, effects = replace(state, request=draft), [*effects, Record("handoff_intake")]
        greeting = Reply(
            (N_("Hello! I am Coach. I help you learn to use your phone, step by step."),)
        )
        return state, [
            *effects,
            Record("learner_started"),
            greeting,
            language_choice(turn.languages),
        ]
    if asks:
        state, asked = ask_for_person(state, turn.rules)
        return state, [*effects, *asked]
    return state, [*effects, Reply((N_("Welcome back!"),)), main_menu(state, turn.course)]


def _command(turn: Turn) -> Outcome:
    if turn.event.command not in REQUEST_COMMANDS:
        turn = replace(turn, state=leave_relay(turn.state))
    state, command = turn.state, turn.event.command
    if command == "start":
        return _start(turn, [])
    if command == "language":
        return state, [language_choice(turn.languages)]
    if state.language is None:
        return state, [language_choice(turn.languages)]
    if command in ("menu", "lessons"):
        return state, [main_menu(state, turn.course)]
    if command == "help" and turn.event.sender.group:
        return state, [help_in_private(turn.help_link)]
    if command == "help":
        return ask_for_person(state, turn.rules)
    if command == "cancel" and state.request is not None and state.request.active:
        outcome = handoff_button(state, "cancel", "-", turn.rules, turn.now)
        if outcome is not None:
            return outcome
    if command == "cancel":
        nothing = N_("You have no request for a person to cancel.")
        return state, [Reply((nothing,)), *here(state, turn.course)]
    if command == "progress":
        return state, [progress_report(state, turn.course, turn.today)]
    if command == DATA_COMMAND:
        return state, [_data_use(turn)]
    if command == "pause":
        return pause_command(state, turn.event.argument, turn.now)
    if command == "resume":
        return resume_command(state)
    if command == "timezone":
        return state, [timezone_choice(turn.rules, turn.now)]
    if command == "stop":
        return _stop(state)
    return state, [Reply((N_("I don't know this command."),)), main_menu(state, turn.course)]


def _data_use(turn: Turn) -> Reply:
    return data_use_reply(turn.state, turn.data_use, turn.transfer, turn.event.sender.group)


def _stop(state: LearnerState) -> Outcome:
    stopped = replace(state, status=LearnerStatus.STOPPED, choices=())
    goodbye = N_("OK. I will not send you messages any more. Send /start to come back.")
    return stopped, [Record("learner_stopped"), Reply((goodbye,))]


def _text(turn: Turn) -> Outcome:
    state, text = turn.state, (turn.event.text or "").strip()
    at = position(state, turn.course)
    if not text:
        return not_understood(turn, N_("Your message was empty."), "empty")
    if len(text) > MAX_TEXT:
        return not_understood(turn, N_("Your message is too long for me."), "too_long")
    request, number = state.request, typed_number(text)
    chatter, group = turn.event.chatter, turn.event.sender.group
    if request is not None and request.step == "other" and not chatter:
        return topic_written(state, text, turn.rules)
    if request is not None and request.status is RequestStatus.COMMENT and not chatter:
        return comment_written(state, text)
    if not chatter and is_stop_word(text, state.language, turn.rules):
        return _stop(state)
    if not chatter and is_forget_word(text, state.language, turn.rules):
        return state, [forget_question()]
    if request is not None and request.relaying and not group:
        return state, [HandoffAction("relay", text=text, message_id=turn.event.message_id)]
    if not chatter and is_data_word(text, state.language, turn.rules):
        return state, [_data_use(turn)]
    if not chatter and is_help_word(text, state.language, turn.rules):
        if group:
            return state, [help_in_private(turn.help_link)]
        return ask_for_person(state, turn.rules)
    if (
        at is not None
        and isinstance(at.step, PracticeStep)
        and practice_accepts(at.step, f"{at.lesson.id}/{at.step.id}", turn.event)
    ):
        return try_practice(state, at, turn.event, turn.course, turn.now, turn.today)
    if number is not None and 1 <= number <= len(state.choices):
        return press_or_answer(turn, state.choices[number - 1])
    if state.language is None:
        return state, [language_choice(turn.languages)]
    if number is not None and state.choices:
        wrong_number = N_("Please type a number from 1 to {last}.", last=len(state.choices))
        if len(state.choices) == 1:
            wrong_number = N_("Please tap the button, or type 1.")
        return not_understood(turn, wrong_number, "number_out_of_range")
    if at is not None and isinstance(at.step, PracticeStep):
        return try_practice(state, at, turn.event, turn.course, turn.now, turn.today)
    if at is not None and isinstance(at.step, QuizStep):
        last = len(at.step.options)
        ask = N_("Please answer with a button, or type a number from 1 to {last}.", last=last)
        return not_understood(turn, ask, "text_in_quiz")
    return not_understood(
        turn, N_("I did not understand. Tap a button or type its number."), "text"
    )


def _media(turn: Turn) -> Outcome:
    request = turn.state.request
    if request is not None and request.relaying and not turn.event.sender.group:
        event = turn.event
        relay = HandoffAction(
            "relay",
            media=event.kind.value,
            message_id=event.message_id,
            media_ref=event.media_ref,
            attachment=event.attachment,
        )
        return turn.state, [relay]
    at = position(turn.state, turn.course)
    if at is not None and isinstance(at.step, PracticeStep):
        return try_practice(turn.state, at, turn.event, turn.course, turn.now, turn.today)
    return not_understood(turn, N_("Thank you! I cannot use this here."), "unexpected_media")

"""What the coach keeps about a learner: the notice, ``/mydata``, and ``/forget``."""

from __future__ import annotations

from datetime import datetime

from bot.core.effects import Choice, Record, Reply
from bot.core.events import Inbound, InboundKind
from bot.core.lesson import Outcome
from bot.core.progress import lessons_done
from bot.core.rules import Rules, said_alone
from bot.core.state import LearnerState, RequestStatus
from bot.core.text import N_, LocalDateTime, Msg, Text, Verbatim
from bot.course.model import Course

FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"
PAYLOADS = (FORGET_YES, FORGET_NO)
# The service erases the learner when it meets this record (and counts erasures, nothing more).
ERASED = "learner_erased"
# The answer to /mydata: a channel that can serve a file offers the download with it.
MY_DATA = "privacy:mydata"
# Translators: words a learner may write, alone, to have everything about them erased (as
# /forget does); separate them with commas.
FORGET_WORDS = N_("forget me, delete my data, erase my data")


def privacy_notice(rules: Rules) -> Reply:
    """Three short lines: what is kept and for how long, who sees it, and the commands."""
    return Reply(
        (
            N_(
                "🔒 I keep your progress, your first name, and your messages to a volunteer "
                "while your request is open (then {days} days at most).",
                days=rules.request_kept_days,
            ),
            N_("Only the volunteer who helps you sees your messages, never your phone number."),
            N_("/mydata shows what I keep. /forget erases it all. /privacy shows this again."),
        )
    )


def is_forget_word(text: str, language: str | None, rules: Rules) -> bool:
    """A message such as "forget me" alone, in the learner's language or in English."""
    return said_alone(text, rules.forget_words, language)


def forget_question() -> Reply:
    """Erasing cannot be undone: the learner confirms with a button (or its number)."""
    question = N_(
        "Do you want me to erase everything I keep about you? Your progress, your requests "
        "and your messages to volunteers will be gone. This cannot be undone."
    )
    choices = (
        Choice(N_("Yes, erase everything"), FORGET_YES),
        Choice(N_("No, keep it"), FORGET_NO),
    )
    return Reply((question,), choices)


def forget_answer(state: LearnerState, payload: str) -> Outcome:
    """Yes: the service erases everything in this event's transaction; no: nothing changes."""
    if payload != FORGET_YES:
        return state, [Reply((N_("OK. Nothing was erased."),))]
    gone = N_("Done. I erased everything I kept about you. If you write again, we start from zero.")
    return state, [Record(ERASED), Reply((gone,))]


def answers_forget(event: Inbound) -> bool:
    """A press on the question's buttons. From someone the coach does not know, it is the
    old question of a learner already erased: it changes nothing and makes no learner."""
    return event.kind is InboundKind.BUTTON and event.payload in PAYLOADS


def my_data(state: LearnerState, course: Course, rules: Rules, now: datetime) -> Reply:
    """``/mydata``: what the coach keeps about this learner, in a few lines."""
    language = rules.languages.get(state.language or "", state.language or "")
    lines: list[Text] = [
        N_("What I keep about you:"),
        N_(
            "Lessons done: {done} of {total}",
            done=lessons_done(state, course),
            total=len(course.lessons),
        ),
        N_("Language: {language}", language=Verbatim(language)),
        _reminders(state, now),
    ]
    if state.first_name:
        lines.append(N_("First name: {name}", name=Verbatim(state.first_name)))
    lines += _request_lines(state)
    lines.append(N_("/forget erases it all. /privacy says how long I keep it."))
    return Reply(tuple(lines), tag=MY_DATA)


def _reminders(state: LearnerState, now: datetime) -> Msg:
    paused = state.nudge.paused_until
    if paused is not None and paused > now:
        return N_("Reminders: paused until {when}", when=LocalDateTime(paused))
    return N_("Reminders: on")


def _request_lines(state: LearnerState) -> list[Text]:
    request = state.request
    if request is None or not request.active or request.status is RequestStatus.INTAKE:
        return [
            N_("Requests for a person: none open"),
            N_("A volunteer sees nothing about you unless you ask for a person."),
        ]
    lines: list[Text] = [N_("Requests for a person: one open")]
    if request.share_name:
        lines.append(
            N_("A volunteer sees: your first name, your language, your topic and your messages")
        )
    else:
        lines.append(N_("A volunteer sees: your language, your topic and your messages"))
    if request.status is RequestStatus.CLAIMED and request.volunteer:
        lines.append(N_("Helping you: {name}", name=Verbatim(request.volunteer)))
    return lines

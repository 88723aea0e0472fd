"""Asking for a person: a short intake, then the request is the volunteers' to take.

The learner chooses a topic (or writes one), where to meet (a drop-in place or by chat),
when (the next drop-in slots), and whether the volunteer may see their first name. They
can cancel at any moment; asking again updates the same request.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core import payloads
from bot.core.effects import Choice, Effect, HandoffAction, Record, Reply
from bot.core.numbers import payload_number
from bot.core.rules import HandoffRules, Place, Rules
from bot.core.state import HelpRequest, LearnerState, RequestStatus
from bot.core.text import N_, LocalDateTime, Msg, Verbatim

if TYPE_CHECKING:  # the lessons' menus offer the way back to the volunteer: no import cycle
    from bot.core.lesson import Outcome

TOPICS: dict[str, Msg] = {
    "phone": N_("Using my phone"),
    "email": N_("E-mail"),
    "admin": N_("Online administration (CAF, ameli…)"),
    "documents": N_("Documents and papers"),
    "safety": N_("A scam, or a worry about safety"),
    "other": N_("Something else"),
}
BY_CHAT = "chat"
# Translators: words a learner may write, alone, to ask for a person; separate them with commas.
HELP_WORDS = N_("help, person, human, volunteer")
SLOTS_SHOWN = 3
MAX_TOPIC_TEXT = 300
STARS = range(1, 6)

CANCEL = Choice(N_("Cancel my request"), payloads.handoff("cancel"))
BACK = Choice(N_("Back to the lessons"), payloads.MENU)
LEAVE_RELAY = Choice(N_("Back to the lessons"), payloads.LESSONS)


def next_slots(place: Place, now: datetime, count: int = SLOTS_SHOWN) -> list[datetime]:
    """The next opening times of a drop-in place, from ``now`` on."""
    zone = ZoneInfo(place.timezone)
    local = now.astimezone(zone)
    found: list[datetime] = []
    for days in range(15):
        day = local.date() + timedelta(days=days)
        for weekday, start, _end in sorted(place.hours, key=lambda h: h[1]):
            moment = datetime.combine(day, start, tzinfo=zone)
            if weekday == day.weekday() and moment > local:
                found.append(moment)
    return sorted(found)[:count]


def ask_for_person(state: LearnerState, rules: Rules) -> Outcome:
    """``/help``, a help word, or the button: start the intake, or offer to update."""
    request = state.request
    if request is not None and request.status is RequestStatus.CLAIMED:
        said = N_("A volunteer is helping you with your request.")
        if request.volunteer:
            said = N_("{name} is helping you with your request.", name=Verbatim(request.volunteer))
        return state, [Reply((said,), (*relay_choices(request), CANCEL))]
    if request is not None and request.status is RequestStatus.OPEN:
        update = Choice(N_("Change my request"), payloads.handoff("update"))
        said = N_("You already asked for a person. I will tell you as soon as someone answers.")
        return state, [Reply((said,), (update, CANCEL, BACK))]
    # Asked again in the middle of the intake: the same request starts over, never a second.
    keep = request.id if request is not None and request.status is RequestStatus.INTAKE else None
    draft = HelpRequest(RequestStatus.INTAKE, id=keep, step="topic")
    return replace(state, request=draft), [Record("handoff_intake"), _ask_topic(rules.handoff)]


def relay_choices(request: HelpRequest) -> tuple[Choice, ...]:
    """The button under a volunteer's message, or in answer to the learner, while the volunteer
    holds the request: back to the lessons while they talk, back to the talk from the lessons."""
    if request.status is not RequestStatus.CLAIMED:
        return ()
    return (talk_choice(request),) if request.in_lessons else (LEAVE_RELAY,)


def talk_choice(request: HelpRequest) -> Choice:
    """The button that takes the learner back into the conversation with their volunteer."""
    if request.volunteer:
        return Choice(N_("💬 Write to {name}", name=Verbatim(request.volunteer)), payloads.TALK)
    return Choice(N_("💬 Write to the volunteer"), payloads.TALK)


def talk_to_volunteer(state: LearnerState) -> Outcome | None:
    """Back into the conversation with the volunteer; None when nobody holds the request."""
    request = state.request
    if request is None or request.status is not RequestStatus.CLAIMED:
        return None
    talking = replace(request, in_lessons=False)
    said = N_(
        "Write your message here: I pass it on to the volunteer. "
        "To go back to the lessons, tap the button."
    )
    if request.volunteer:
        said = N_(
            "Write your message here: I pass it on to {name}. "
            "To go back to the lessons, tap the button.",
            name=Verbatim(request.volunteer),
        )
    return replace(state, request=talking), [Reply((said,), relay_choices(talking))]


def leave_relay(state: LearnerState) -> LearnerState:
    """Out of the conversation to the lessons; the volunteer still holds the request."""
    request = state.request
    if request is None or not request.relaying:
        return state
    return replace(state, request=replace(request, in_lessons=True))


def _ask_topic(rules: HandoffRules) -> Reply:
    topics = [*rules.topics, "other"]
    choices = tuple(Choice(TOPICS[t], payloads.handoff("topic", t)) for t in topics if t in TOPICS)
    return Reply((N_("A volunteer can help you. What is it about?"),), (*choices, CANCEL))


def _ask_place(rules: HandoffRules) -> Reply:
    choices = [
        Choice(Verbatim(place.name), payloads.handoff("place", place.id)) for place in rules.places
    ]
    choices.append(Choice(N_("By chat, here"), payloads.handoff("place", BY_CHAT)))
    return Reply((N_("Where would you like to meet?"),), (*choices, CANCEL))


def _ask_when(place: Place, now: datetime) -> Reply:
    choices = [
        Choice(LocalDateTime(slot), payloads.handoff("when", str(index)))
        for index, slot in enumerate(next_slots(place, now))
    ]
    choices.append(Choice(N_("Any of these times"), payloads.handoff("when", "any")))
    return Reply((N_("When can you come?"),), (*choices, CANCEL))


def _ask_consent(state: LearnerState) -> Reply:
    yes = Choice(N_("Yes, show my first name"), payloads.handoff("name", "yes"))
    no = Choice(N_("No, stay anonymous"), payloads.handoff("name", "no"))
    said = N_("May the volunteer see your first name? They never see your number or account.")
    return Reply((said,), (yes, no, CANCEL))


def pending_question(state: LearnerState, rules: Rules, now: datetime) -> Reply | None:
    """The intake question the learner has not answered yet, to ask again after a slip."""
    request = state.request
    if request is None or request.status is not RequestStatus.INTAKE:
        return None
    places = {place.id: place for place in rules.handoff.places}
    if request.step == "topic":
        return _ask_topic(rules.handoff)
    if request.step == "place":
        return _ask_place(rules.handoff)
    if request.step == "when" and request.place in places:
        return _ask_when(places[request.place], now)
    if request.step == "consent":
        return _ask_consent(state)
    return None


def handoff_button(
    state: LearnerState, verb: str, argument: str, rules: Rules, now: datetime
) -> Outcome | None:
    """A button of the intake or of the rating; None when it does not fit the request now."""
    request = state.request
    if verb == "update" and request is not None and request.status is RequestStatus.OPEN:
        draft = replace(request, step="topic")
        return replace(state, request=draft), [_ask_topic(rules.handoff)]
    if verb == "cancel" and request is not None and request.active:
        return _cancel(state, request)
    if verb == "talk":
        return talk_to_volunteer(state)
    if verb in ("rate", "skip") and request is not None:
        return _rating(state, request, verb, argument)
    if request is None or request.step is None:
        return None
    return _intake(state, request, verb, argument, rules, now)


def _intake(
    state: LearnerState, request: HelpRequest, verb: str, argument: str, rules: Rules, now: datetime
) -> Outcome | None:
    places = {place.id: place for place in rules.handoff.places}
    if verb == "topic" and request.step == "topic" and argument in TOPICS:
        if argument == "other":
            draft = replace(request, topic="other", step="other")
            return replace(state, request=draft), [
                Reply((N_("Write in a few words what you need help with."),), (CANCEL,))
            ]
        return _after_topic(state, replace(request, topic=argument, topic_text=None), rules)
    if verb == "place" and request.step == "place" and (argument in places or argument == BY_CHAT):
        if argument == BY_CHAT or not places[argument].hours:
            draft = replace(request, place=argument, slot=None, step="consent")
            return replace(state, request=draft), [_ask_consent(state)]
        draft = replace(request, place=argument, step="when")
        return replace(state, request=draft), [_ask_when(places[argument], now)]
    if verb == "when" and request.step == "when" and request.place in places:
        slots = next_slots(places[request.place], now)
        index = payload_number(argument)
        if argument != "any" and (index is None or index >= len(slots)):
            return None
        slot = None if index is None else slots[index]
        draft = replace(request, slot=slot, step="consent")
        return replace(state, request=draft), [_ask_consent(state)]
    if verb == "name" and request.step == "consent" and argument in ("yes", "no"):
        return _send(state, replace(request, share_name=argument == "yes"))
    return None


def topic_written(state: LearnerState, text: str, rules: Rules) -> Outcome:
    """The learner's own words for "something else"."""
    assert state.request is not None
    return _after_topic(state, replace(state.request, topic_text=text[:MAX_TOPIC_TEXT]), rules)


def _after_topic(state: LearnerState, request: HelpRequest, rules: Rules) -> Outcome:
    """Ask where to meet; with no drop-in place, "by chat" is the only answer: skip it."""
    if not rules.handoff.places:
        draft = replace(request, place=BY_CHAT, slot=None, step="consent")
        return replace(state, request=draft), [_ask_consent(state)]
    draft = replace(request, step="place")
    return replace(state, request=draft), [_ask_place(rules.handoff)]


def _send(state: LearnerState, request: HelpRequest) -> Outcome:
    updating = request.status is RequestStatus.OPEN
    request = replace(request, status=RequestStatus.OPEN, step=None)
    state = replace(state, request=request, nudge=replace(state.nudge, handoff_open=True))
    said = N_(
        "Thank you. I am asking the volunteers now. I will tell you who will help you, and when."
    )
    if updating:
        said = N_("Your request is updated. I will tell you who will help you, and when.")
    kind = "update" if updating else "open"
    return state, [Record(f"handoff_{kind}"), HandoffAction(kind), Reply((said,), (CANCEL, BACK))]


def _cancel(state: LearnerState, request: HelpRequest) -> Outcome:
    was_sent = request.status is not RequestStatus.INTAKE
    state = replace(state, request=None, nudge=replace(state.nudge, handoff_open=False))
    effects: list[Effect] = [Record("handoff_cancelled")]
    if was_sent:
        effects.append(HandoffAction("cancel"))
    return state, [
        *effects,
        Reply((N_("Your request is cancelled. You can ask again at any time."),), (BACK,)),
    ]


def _rating(state: LearnerState, request: HelpRequest, verb: str, argument: str) -> Outcome | None:
    stars = payload_number(argument)
    if verb == "rate" and request.status is RequestStatus.RATING and stars in STARS:
        draft = replace(request, status=RequestStatus.COMMENT)
        skip = Choice(N_("No comment"), payloads.handoff("skip"))
        said = N_("Thank you! Would you like to add a comment? Write it, or tap the button.")
        return replace(state, request=draft), [
            HandoffAction("rate", rating=stars),
            Reply((said,), (skip,)),
        ]
    if verb == "skip" and request.status is RequestStatus.COMMENT:
        return replace(state, request=None), [Reply((N_("Thank you for your answer."),), (BACK,))]
    return None


def comment_written(state: LearnerState, text: str) -> Outcome:
    said = N_("Thank you for your answer.")
    return replace(state, request=None), [
        HandoffAction("comment", text=text[:1000]),
        Reply((said,), (BACK,)),
    ]


def rating_question() -> Reply:
    """What the learner is asked when the volunteer closed the request."""
    stars = tuple(Choice(Verbatim("⭐" * n), payloads.handoff("rate", str(n))) for n in STARS)
    return Reply(
        (N_("How was the help you got? Tap from 1 star (bad) to 5 stars (very good)."),), stars
    )


def is_help_word(text: str, language: str | None, rules: Rules) -> bool:
    """A message such as "help" or "aide" in the learner's language asks for a person."""
    words = rules.handoff.help_words.get(language or "", frozenset())
    return text.strip().strip("!?.¿¡ ").lower() in words

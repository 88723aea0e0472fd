"""What a volunteer sends, read as one typed action, and who may do what: pure rules.

The service gathers the facts inside its transaction (is the sender an active volunteer,
an admin, which requests they hold, the tag of the coach message they replied to) and
applies the action this module decides. ``None`` means the message is not a volunteer's
business: the learners' handling takes it. One command grammar (``bot.core.commands``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import Inbound, InboundKind
from bot.core.numbers import ID_DIGITS, payload_number
from bot.core.text import N_, Msg

PREFIX = "vol:"
INVITE_PREFIX = "v_"
OUTCOMES: dict[str, Msg] = {
    "met": N_("We met"),
    "chat": N_("Solved by chat"),
    "noshow": N_("They did not come"),
    "other": N_("Other"),
}
SETTINGS = ("available", "language", "place")
GONE = N_("This button does not work any more.")
USAGE_REPLY = N_("Send /reply, the request number and your text, for example: /reply 12 Hello.")
ONLY_WRITE = N_("You can only write to learners whose request you took.")
ONLY_CLOSE = N_("You can only close requests you took.")
ONLY_TAKE = N_("Only registered volunteers can take a request.")
ONLY_VOLUNTEERS = N_("Only registered volunteers can do this.")
NAME_NEEDED = N_("Send /invite and the volunteer's name.")
NOTHING_HELD = N_(
    "You are not helping anyone right now. New requests come here; "
    "send /volunteer to change your settings."
)


def volunteer_payload(verb: str, *args: str) -> str:
    return PREFIX + verb + ("/" + "/".join(args) if args else "")


@dataclass(frozen=True)
class Facts:
    """What the service knows of the sender when it reads their message."""

    volunteer: bool  # an active, registered volunteer
    admin: bool = False
    held: tuple[int, ...] = ()  # the requests they hold now
    reply_tag: str | None = None  # the tag of the coach message they replied to
    forget_words: bool = False  # the message is the words of their language for /forget


@dataclass(frozen=True)
class Register:
    token: str


@dataclass(frozen=True)
class Invite:
    name: str


@dataclass(frozen=True)
class ShowSettings:
    pass


@dataclass(frozen=True)
class Change:
    what: str
    value: str


@dataclass(frozen=True)
class Claim:
    request: int


@dataclass(frozen=True)
class Write:
    """Text for the learner of a request the volunteer holds."""

    request: int
    text: str


@dataclass(frozen=True)
class Forward:
    """A copy of the volunteer's own message (a photo, a voice note…) for the learner."""

    request: int
    message_id: str


@dataclass(frozen=True)
class AskWhich:
    """A volunteer holding several requests wrote without saying to whom."""

    requests: tuple[int, ...]
    message_id: str


@dataclass(frozen=True)
class AskOutcome:
    request: int


@dataclass(frozen=True)
class Close:
    request: int
    outcome: str


@dataclass(frozen=True)
class Note:
    request: int
    text: str


@dataclass(frozen=True)
class AskForget:
    """A volunteer asks to be erased: the coach asks first (it cannot be undone)."""


@dataclass(frozen=True)
class Forget:
    """The answer to that question: ``confirmed``, their name, Telegram id and sign-ins go."""

    confirmed: bool


@dataclass(frozen=True)
class Refused:
    """Nothing changes; the volunteer is told why (an alert, for a button)."""

    say: Msg


Action = (
    Register
    | Invite
    | ShowSettings
    | Change
    | Claim
    | Write
    | Forward
    | AskWhich
    | AskOutcome
    | Close
    | Note
    | AskForget
    | Forget
    | Refused
)
FORGET_COMMANDS = ("forget", "delete")


def may_invite(facts: Facts) -> bool:
    return facts.admin


def holds(facts: Facts, request: int | None) -> bool:
    """Only an active volunteer holding the request may write to its learner or close it."""
    return facts.volunteer and request is not None and request in facts.held


def number_and_text(argument: str) -> tuple[int | None, str]:
    """``12 Hello`` or ``#12 Hello``: the request number and the text; no number, all text."""
    first, _, rest = argument.strip().partition(" ")
    number = payload_number(first.lstrip("#"), ID_DIGITS)
    if number is not None:
        return number, rest.strip()
    return None, argument.strip()


def _the_one(facts: Facts, number: int | None) -> int | None:
    """The request named, or the only one held when none is named."""
    if number is None and len(facts.held) == 1:
        return facts.held[0]
    return number


def read_message(event: Inbound, facts: Facts) -> Action | None:
    """A message in a private chat; None when it is not a volunteer's business."""
    if event.sender.group:
        return None
    if event.kind is InboundKind.COMMAND:
        return _command(event.command or "", event.argument or "", facts)
    kind, _, number = (facts.reply_tag or "").partition(":")
    request = payload_number(number, ID_DIGITS)
    if kind in ("relay", "note") and request is not None and event.text:
        if kind == "note":
            return Note(request, event.text) if facts.volunteer else Refused(ONLY_CLOSE)
        return Write(request, event.text) if holds(facts, request) else Refused(ONLY_WRITE)
    if not facts.volunteer:
        return None
    if facts.forget_words and event.kind is InboundKind.TEXT:
        return AskForget()
    return _unaddressed(event, facts)


def _unaddressed(event: Inbound, facts: Facts) -> Action:
    """A volunteer wrote without replying to a learner's message: a volunteer is never a
    new learner. One request held: it goes there; several: the coach asks which."""
    if not facts.held:
        return Refused(NOTHING_HELD)
    message_id = event.message_id or ""
    if len(facts.held) > 1:
        return AskWhich(facts.held, message_id)
    if event.kind is InboundKind.TEXT and event.text:
        return Write(facts.held[0], event.text)
    return Forward(facts.held[0], message_id)


def _command(name: str, argument: str, facts: Facts) -> Action | None:
    if name == "start" and argument.startswith(INVITE_PREFIX):
        return Register(argument[len(INVITE_PREFIX) :])
    if name == "invite" and may_invite(facts):
        return Invite(argument.strip()[:64]) if argument.strip() else Refused(NAME_NEEDED)
    if name == "volunteer":
        return ShowSettings() if facts.volunteer else None
    if name in FORGET_COMMANDS:
        return AskForget() if facts.volunteer else None
    if name == "reply":
        number, text = number_and_text(argument)
        request = _the_one(facts, number)
        if request is None or not text:
            return Refused(USAGE_REPLY)
        return Write(request, text) if holds(facts, request) else Refused(ONLY_WRITE)
    if name == "done":
        request = _the_one(facts, number_and_text(argument)[0])
        return AskOutcome(request) if holds(facts, request) and request else Refused(ONLY_CLOSE)
    return None


def read_button(payload: str, facts: Facts) -> Action:
    """A ``vol:`` button: claim, close with an outcome, a setting, or which request."""
    verb, _, rest = payload[len(PREFIX) :].partition("/")
    args = rest.split("/") if rest else []
    request = payload_number(args[0], ID_DIGITS) if args else None
    if verb == "claim" and len(args) == 1 and request is not None:
        return Claim(request) if facts.volunteer else Refused(ONLY_TAKE)
    if verb == "done" and len(args) == 2 and request is not None:
        if args[1] not in OUTCOMES:
            return Refused(GONE)
        return Close(request, args[1]) if holds(facts, request) else Refused(ONLY_CLOSE)
    if verb == "to" and len(args) == 2 and request is not None:
        message_id = payload_number(args[1], ID_DIGITS)
        if message_id is None:
            return Refused(GONE)
        return Forward(request, str(message_id)) if holds(facts, request) else Refused(ONLY_WRITE)
    if verb == "forget" and args in (["yes"], ["no"]):
        return Forget(args == ["yes"]) if facts.volunteer else Refused(ONLY_VOLUNTEERS)
    if verb in SETTINGS and len(args) <= 1:
        value = args[0] if args else ""
        return Change(verb, value) if facts.volunteer else Refused(ONLY_VOLUNTEERS)
    return Refused(GONE)

"""Button payloads: short strings that fit Telegram's 64-byte callback data."""

from __future__ import annotations

from dataclasses import dataclass

MENU = "menu"
PROGRESS = "prog"
LANGUAGE = "language"
TEXT_ONLY = "data"


def language(code: str) -> str:
    return f"lang:{code}"


def module(module_id: str) -> str:
    return f"mod:{module_id}"


def lesson(lesson_id: str) -> str:
    return f"les:{lesson_id}"


def go(lesson_id: str) -> str:
    """Start the lesson, its cost seen."""
    return f"go:{lesson_id}"


def go_without_pictures(lesson_id: str) -> str:
    return f"gonp:{lesson_id}"


def next_step(lesson_id: str, step_id: str) -> str:
    return f"next:{lesson_id}/{step_id}"


def unclear(lesson_id: str, step_id: str) -> str:
    """A learner finds this lesson message unclear (in a draft translation)."""
    return f"unc:{lesson_id}/{step_id}"


def skip(lesson_id: str, step_id: str) -> str:
    return f"skip:{lesson_id}/{step_id}"


def answer(lesson_id: str, step_id: str, option: int) -> str:
    return f"ans:{lesson_id}/{step_id}/{option}"


def review(lesson_id: str, step_id: str, option: int) -> str:
    return f"rev:{lesson_id}/{step_id}/{option}"


def timezone(index: int) -> str:
    return f"tz:{index}"


def handoff(verb: str, argument: str = "-") -> str:
    return f"ho:{verb}/{argument}"


# While a volunteer holds the request: back into the conversation, or out of it to the lessons.
TALK = handoff("talk")
LESSONS = handoff("lessons")


NUDGE_GO = "nudge:go"
NUDGE_LATER = "nudge:later"
NUDGE_PAUSE = "nudge:pause"


@dataclass(frozen=True)
class Payload:
    """A parsed payload: its action and arguments."""

    action: str
    args: tuple[str, ...] = ()


_ARITY = {
    "menu": 0,
    "prog": 0,
    "language": 0,
    "data": 0,
    "lang": 1,
    "mod": 1,
    "les": 1,
    "go": 1,
    "gonp": 1,
    "next": 2,
    "skip": 2,
    "unc": 2,
    "ans": 3,
    "rev": 3,
    "tz": 1,
    "nudge": 1,
    "ho": 2,
}


def parse(raw: str) -> Payload | None:
    """Read a payload; None for anything malformed or unknown (it may be forged)."""
    action, _, rest = raw.partition(":")
    arity = _ARITY.get(action)
    if arity is None or len(raw) > 64:
        return None
    args = tuple(rest.split("/")) if rest else ()
    if len(args) != arity or any(not a for a in args):
        return None
    return Payload(action, args)

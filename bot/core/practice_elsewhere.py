"""A practice task whose message the channel cannot carry: done on the phone, not checked.

A bridged group takes only text, so a photo or a voice note cannot reach the coach. The
learner is told so, does the task on their phone, and types the number shown; the coach
says plainly it did not check, and the step counts as practised, not checked.
"""

from __future__ import annotations

import hashlib

from bot.core.events import Inbound, InboundKind
from bot.core.numbers import typed_number
from bot.core.text import N_, CourseText, Msg
from bot.course.model import PracticeKind

PRACTICE_INBOUND = {
    PracticeKind.PHOTO: InboundKind.PHOTO,
    PracticeKind.VOICE: InboundKind.VOICE,
    PracticeKind.VIDEO_NOTE: InboundKind.VIDEO_NOTE,
    PracticeKind.LOCATION: InboundKind.LOCATION,
    PracticeKind.CONTACT: InboundKind.CONTACT,
    PracticeKind.DOCUMENT: InboundKind.DOCUMENT,
}
CANNOT_COME: dict[InboundKind, Msg] = {
    InboundKind.PHOTO: N_("📵 Photos cannot come through this chat."),
    InboundKind.VOICE: N_("📵 Voice notes cannot come through this chat."),
    InboundKind.VIDEO_NOTE: N_("📵 Video messages cannot come through this chat."),
    InboundKind.LOCATION: N_("📵 Locations cannot come through this chat."),
    InboundKind.CONTACT: N_("📵 Contacts cannot come through this chat."),
    InboundKind.DOCUMENT: N_("📵 Files cannot come through this chat."),
}
UNCHECKED = N_("👍 Thank you. I cannot see your phone from here, so I did not check it.")


def practice_code(tag: str) -> int:
    """The number a learner types once they did the task on their phone: the same for a
    step every time, three digits, so it is never one of the numbered options."""
    digest = hashlib.sha256(f"practised/{tag}".encode()).digest()
    return 100 + int.from_bytes(digest[:4], "big") % 900


def do_it_on_the_phone(tag: str) -> Msg:
    return N_(
        "Do it on your phone instead (in another chat, or just for yourself). "
        "Then type {code} here. I cannot check it from here.",
        code=str(practice_code(tag)),
    )


def needing(text: CourseText, expect: PracticeKind, tag: str, keep: bool) -> CourseText:
    """A practice's prompt (``keep``) or hint, and what is said instead on a channel that
    cannot receive what the task asks for."""
    kind = PRACTICE_INBOUND.get(expect)
    if kind is None:
        return text
    instead = (text,) if keep else ()
    return CourseText(
        text.context,
        text.source,
        text.variants,
        needs=kind.value,
        instead=(*instead, CANNOT_COME[kind], do_it_on_the_phone(tag)),
    )


def practised_elsewhere(expect: PracticeKind, tag: str, event: Inbound) -> bool:
    """The learner typed the number of a task they could only do on their phone."""
    if expect not in PRACTICE_INBOUND or event.kind is not InboundKind.TEXT:
        return False
    return typed_number(event.text or "") == practice_code(tag)

"""Rules for learners who share a group chat."""

from __future__ import annotations

from bot.core.events import Inbound, InboundKind
from bot.core.text import N_, Msg, Verbatim


def foreign_buttons(event: Inbound, owner: tuple[str, str | None] | None) -> Msg | None:
    """In a group, buttons belong to the learner they were sent to; anyone else who presses
    them is told so, and nothing changes. ``owner``: that learner's user id and first name."""
    if event.kind is not InboundKind.BUTTON or not event.sender.group or owner is None:
        return None
    user_id, first_name = owner
    if user_id == event.sender.user_id:
        return None
    return N_(
        "These buttons are for {name}. Send /start to begin your own lessons.",
        name=Verbatim(first_name or "…"),
    )

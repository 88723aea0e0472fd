"""Rules for learners who share a group chat."""

from __future__ import annotations

from bot.core.effects import Reply
from bot.core.events import Inbound, InboundKind
from bot.core.handoff import BACK
from bot.core.text import N_, Msg, Verbatim

# A request for a person is a private matter: in a group, these steps lead to a private chat.
PRIVATE_HANDOFF = frozenset({"ask", "update", "topic", "place", "when", "name", "talk"})


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


def help_in_private(link: str | None) -> Reply:
    """In a group, asking for a person continues in a private chat with the coach, which
    ``link`` opens (where the channel has one)."""
    if link is None:
        said = N_("To ask for a person, write to me in a private chat, not in the group.")
    else:
        said = N_("To ask for a person, write to me in a private chat: {link}", link=Verbatim(link))
    return Reply((said,), (BACK,))

"""In a group, a learner's buttons are theirs: anyone else who presses them is told so."""

from __future__ import annotations

from dataclasses import replace

from bot.core.events import Sender
from bot.core.groups import foreign_buttons
from bot.core.text import Msg
from tests.builders import button, sender, text
from tests.core_journey import ENGLISH


def in_group(user: str) -> Sender:
    return replace(sender(user), chat_id="-100", group=True)


def said(notice: Msg | None) -> str | None:
    return None if notice is None else ENGLISH.render(notice, "en")


def test_a_group_button_pressed_by_someone_else_is_refused_with_the_owners_name() -> None:
    press = button("next:first/hello", in_group("u2"))
    notice = foreign_buttons(press, ("u1", "Amina"))
    assert said(notice) == "These buttons are for Amina. Send /start to begin your own lessons."


def test_the_owner_and_private_chats_and_typed_text_are_never_refused() -> None:
    assert foreign_buttons(button("menu", in_group("u1")), ("u1", "Amina")) is None
    assert foreign_buttons(button("menu", sender("u2")), ("u1", "Amina")) is None
    assert foreign_buttons(text("1", in_group("u2")), ("u1", "Amina")) is None
    assert foreign_buttons(button("menu", in_group("u2")), None) is None

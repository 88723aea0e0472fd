"""The volunteers' rules, without a bot or a database: what a message or a button means."""

from __future__ import annotations

from bot.core import volunteering as v
from bot.core.commands import typed_event
from bot.core.events import Inbound, InboundKind, Sender
from tests.builders import NOW

NADIA = Sender("telegram", "4001", "4001")
HELPER = v.Facts(volunteer=True, held=(7,))
BUSY = v.Facts(volunteer=True, held=(7, 9))
STRANGER = v.Facts(volunteer=False)


def typed(text: str, sender: Sender = NADIA) -> Inbound:
    event = typed_event(sender, "k", text, NOW, message_id="55")
    assert event is not None
    return event


def test_commands_become_volunteer_actions() -> None:
    assert v.read_message(typed("/reply 9 Bring your passport"), BUSY) == v.Write(
        9, "Bring your passport"
    )
    assert v.read_message(typed("/reply Hello"), HELPER) == v.Write(7, "Hello")
    assert v.read_message(typed("/reply Hello"), BUSY) == v.Refused(v.USAGE_REPLY)
    assert v.read_message(typed("/done"), HELPER) == v.AskOutcome(7)
    assert v.read_message(typed("/done #9"), BUSY) == v.AskOutcome(9)
    assert v.read_message(typed("/start v_abc"), STRANGER) == v.Register("abc")
    assert v.read_message(typed("/volunteer"), HELPER) == v.ShowSettings()


def test_only_the_holder_writes_and_closes_and_only_an_admin_invites() -> None:
    assert v.read_message(typed("/reply 8 hi"), BUSY) == v.Refused(v.ONLY_WRITE)
    assert v.read_message(typed("/done 8"), BUSY) == v.Refused(v.ONLY_CLOSE)
    assert v.read_message(typed("/invite Omar"), HELPER) is None
    assert v.read_message(typed("/invite Omar"), v.Facts(False, admin=True)) == v.Invite("Omar")
    assert v.read_message(typed("/invite"), v.Facts(False, admin=True)) == v.Refused(v.NAME_NEEDED)
    assert v.read_button("vol:claim/3", STRANGER) == v.Refused(v.ONLY_TAKE)
    assert v.read_button("vol:claim/3", HELPER) == v.Claim(3)
    assert v.read_button("vol:done/7/met", HELPER) == v.Close(7, "met")
    assert v.read_button("vol:done/9/met", HELPER) == v.Refused(v.ONLY_CLOSE)
    assert v.read_button("vol:done/7/made-up", HELPER) == v.Refused(v.GONE)
    assert v.read_button("vol:claim/007", HELPER) == v.Refused(v.GONE)
    assert v.read_button("vol:language/fr", STRANGER) == v.Refused(v.ONLY_VOLUNTEERS)
    assert v.read_button("vol:language/fr", HELPER) == v.Change("language", "fr")
    assert v.read_button("vol:to/9/55", BUSY) == v.Forward(9, "55")
    assert v.read_button("vol:to/8/55", BUSY) == v.Refused(v.ONLY_WRITE)


def test_a_reply_to_a_relayed_message_or_a_note_request_goes_to_that_request() -> None:
    replied = typed("Tap Forgot password")
    assert v.read_message(replied, v.Facts(True, held=(7, 9), reply_tag="relay:9")) == v.Write(
        9, "Tap Forgot password"
    )
    assert v.read_message(replied, v.Facts(True, reply_tag="relay:9")) == v.Refused(v.ONLY_WRITE)
    assert v.read_message(replied, v.Facts(True, reply_tag="note:4")) == v.Note(4, replied.text)


def test_a_volunteer_typing_without_replying_is_never_a_new_learner() -> None:
    assert v.read_message(typed("Hello"), HELPER) == v.Write(7, "Hello")
    assert v.read_message(typed("Hello"), BUSY) == v.AskWhich((7, 9), "55")
    assert v.read_message(typed("Hello"), v.Facts(True)) == v.Refused(v.NOTHING_HELD)
    photo = Inbound(NADIA, InboundKind.PHOTO, NOW, "p", message_id="56")
    assert v.read_message(photo, HELPER) == v.Forward(7, "56")
    assert v.read_message(typed("Hello"), STRANGER) is None
    assert v.read_message(typed("/start"), HELPER) is None
    group = Sender("telegram", "-100", "4001", group=True)
    assert v.read_message(typed("Hello", group), HELPER) is None

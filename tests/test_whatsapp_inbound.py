"""WhatsApp messages of every type, as the core's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.whatsapp.inbound import message_event, names, statuses, values
from bot.core.events import InboundKind
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.whatsapp_graph import PHONE_NUMBER_ID

AT = datetime(2026, 1, 1, tzinfo=UTC)
AMINA = "33612345678"


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("image", {"id": "1", "mime_type": "image/jpeg"}, InboundKind.PHOTO),
        ("audio", {"id": "2", "voice": True}, InboundKind.VOICE),
        ("document", {"id": "3", "filename": "cv.pdf"}, InboundKind.DOCUMENT),
        ("location", {"latitude": 48.85, "longitude": 2.35}, InboundKind.LOCATION),
        ("contacts", [{"name": {"formatted_name": "Bilal"}}], InboundKind.CONTACT),
        ("sticker", {"id": "4", "animated": False}, InboundKind.STICKER),
        ("video", {"id": "5"}, InboundKind.OTHER),
        ("reaction", {"message_id": "wamid.x", "emoji": "👍"}, InboundKind.OTHER),
    ],
)
def test_each_message_type_is_a_practice_kind(
    kind: str, content: object, expected: InboundKind
) -> None:
    value = hook.message(AMINA, "Amina", kind, content)
    event = message_event(value["messages"][0], "Amina", AT)
    assert event is not None and event.kind is expected
    assert event.key == f"wa:m:{hook.message_id(value)}"
    assert event.sender.chat_id == event.sender.user_id == AMINA
    assert event.sender.language_hint is None and not event.sender.group


def test_a_reply_names_the_message_it_answers_and_a_forward_is_flagged() -> None:
    replied = hook.text(AMINA, "Amina", "done", context={"from": "1555", "id": "wamid.abc"})
    event = message_event(replied["messages"][0], "Amina", AT)
    assert event is not None and event.reply_to_message_id == "wamid.abc"
    assert not event.forwarded and event.text == "done"
    forwarded = hook.text(AMINA, "Amina", "look", context={"forwarded": True})
    event = message_event(forwarded["messages"][0], "Amina", AT)
    assert event is not None and event.forwarded and event.reply_to_message_id is None


def test_a_button_or_list_tap_is_a_button_event_with_its_payload() -> None:
    for listed in (False, True):
        value = hook.tap(AMINA, "Amina", "wamid.menu", "mod:basics", "1. Basics", listed)
        event = message_event(value["messages"][0], "Amina", AT)
        assert event is not None and event.kind is InboundKind.BUTTON
        assert event.payload == "mod:basics" and event.reply_to_message_id is None


def test_calls_for_another_number_and_system_messages_are_left_alone() -> None:
    value = hook.text(AMINA, "Amina", "hello")
    assert list(values(hook.envelope("999", value), PHONE_NUMBER_ID)) == []
    assert len(list(values(hook.envelope(PHONE_NUMBER_ID, value), PHONE_NUMBER_ID))) == 1
    assert names(value) == {AMINA: "Amina"}
    system = hook.message(AMINA, "Amina", "system", {"body": "changed number"})
    assert message_event(system["messages"][0], "Amina", AT) is None


def test_statuses_carry_the_message_id_and_the_error_code() -> None:
    (failed,) = statuses(hook.status(AMINA, "wamid.1", "failed", 131047))
    assert (failed.message_id, failed.chat_id, failed.status) == ("wamid.1", AMINA, "failed")
    assert failed.error == "whatsapp 131047"

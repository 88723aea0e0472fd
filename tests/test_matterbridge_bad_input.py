"""What the bridge's stream may carry that is not a person's message: lines that are not JSON,
not an object, nested past any use, longer than any message, events of every kind, other
gateways, nobody behind a message. Each is skipped; the stream stays up; the next person is
answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.matterbridge.inbound import event_key, message_event, person
from bot.channels.matterbridge.lines import bounded_lines
from bot.channels.matterbridge.stream import MOST_LINE, pause_after
from bot.core.events import InboundKind
from tests.fakes.matterbridge_api import GATEWAY, Person, message
from tests.matterbridge_learner import (
    BridgedPerson,
    coach_on_matterbridge,
    follower,
    handled,
    handled_count,
)
from tests.telegram_learner import drained, eventually

AMINA = Person("Amina", "33612345678@s.whatsapp.net")
NOT_MESSAGES = [
    b"{not json at all\n",
    b"[1, 2, 3]\n",
    b"null\n",
    b'"text"\n',
    b"\xff\xfe\x00 bytes that are no text\n",
    b"[" * 200_000 + b"]" * 200_000 + b"\n",  # deeper than Python's stack
    b'{"text": "' + b"x" * (MOST_LINE + 10) + b'"}\n',  # longer than any message
]
AT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def relayed(**fields: Any) -> dict[str, Any]:
    usual = {
        "text": "/start",
        "username": "Amina",
        "userid": AMINA.userid,
        "protocol": "whatsapp",
        "account": "whatsapp.association",
        "gateway": GATEWAY,
        "timestamp": "2026-12-06T20:00:00.123456789Z",
    }
    return message(**{**usual, **fields})


NOT_FOR_THE_COACH = [
    relayed(event="user_typing"),
    relayed(event="join_leave"),
    relayed(event="msg_delete"),
    relayed(event="topic_change"),
    relayed(event="api_connected"),
    relayed(event="something_new_in_a_later_version"),
    relayed(gateway="another-group"),
    relayed(gateway=""),
    relayed(gateway=["a", "list"]),
    relayed(userid="", username=""),
    relayed(text=12),
    relayed(text={"nested": "object"}),
]


async def test_lines_that_are_not_messages_are_skipped_and_the_stream_stays_up(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        for line in NOT_MESSAGES:
            bridge.stream_line(line)
        for event in NOT_FOR_THE_COACH:
            if event["event"] == "api_connected":
                continue  # a greeting: the bridge's, counted as such
            bridge.stream_line(json.dumps(event).encode() + b"\n")
        amina = BridgedPerson(coach, bridge, AMINA)
        said = await amina.says("/start")
        assert said[0].startswith("Amina: Hello! I am Coach.")
        assert follower(coach).skipped == len(NOT_MESSAGES)
        assert follower(coach).connections == 1
        assert await handled_count(coach) == 1
        assert len(bridge.posts()) == 1


async def test_a_line_cut_off_by_a_lost_connection_is_not_taken_as_a_message(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        whole = relayed(text="/start", timestamp="2026-12-06T20:00:01Z")
        line = json.dumps(whole).encode()
        bridge.stream_line(line[: len(line) // 2])  # half a message, then the line breaks
        bridge.break_streams()
        said = bridge.say(AMINA, "/start")
        await eventually(lambda: handled(coach, said))
        await drained(coach)
        assert not await handled(coach, whole)
        assert follower(coach).skipped == 0
        assert len(bridge.posts()) == 1


@pytest.mark.parametrize("event", NOT_FOR_THE_COACH, ids=range(len(NOT_FOR_THE_COACH)))
def test_events_other_gateways_and_nobody_make_no_core_event(event: dict[str, Any]) -> None:
    assert message_event(event, frozenset({GATEWAY}), AT) is None


def test_odd_fields_around_a_message_do_not_stop_it() -> None:
    odd = relayed(event=None, Extra="not an object", timestamp="yesterday", avatar=["?"])
    event = message_event(odd, frozenset({GATEWAY}), AT)
    assert event is not None and event.kind is InboundKind.COMMAND and event.command == "start"


def test_each_person_is_their_protocol_and_id_or_their_name_where_the_bridge_has_no_id() -> None:
    assert person(relayed()) == f"whatsapp:{AMINA.userid}"
    assert person(relayed(userid="", protocol="irc", username="amina")) == "irc:@amina"
    long_id = person(relayed(userid="x" * 500))
    assert long_id is not None and len(long_id) <= 128
    event = message_event(relayed(text="1"), frozenset(), AT)
    assert event is not None and event.sender.group and event.sender.chat_id == GATEWAY
    assert event.sender.first_name == "Amina" and not event.addressed


def test_a_message_keeps_its_key_each_time_it_comes_and_two_messages_never_share_one() -> None:
    first = relayed(text="1")
    assert event_key(first) == event_key(json.loads(json.dumps(first)))
    later = relayed(text="1", timestamp="2026-12-06T20:00:00.123456790Z")
    assert event_key(later) != event_key(first)
    assert event_key(relayed(text="1", userid="someone-else")) != event_key(first)


def test_a_relayed_file_is_a_photo_a_voice_note_or_a_document_by_its_name() -> None:
    def kind(name: str) -> InboundKind:
        event = message_event(relayed(text="", Extra={"file": [{"Name": name}]}), (), AT)
        assert event is not None
        return event.kind

    assert kind("IMG-20261206-WA0001.jpg") is InboundKind.PHOTO
    assert kind("PTT-20261206-WA0002.opus") is InboundKind.VOICE
    assert kind("attestation.pdf") is InboundKind.DOCUMENT


class Chunks:
    """A stream body that gives its bytes in the pieces a network would."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces: Iterator[bytes] = iter(pieces)

    async def readany(self) -> bytes:
        return next(self.pieces, b"")


async def lines_of(pieces: list[bytes], most: int) -> list[bytes | None]:
    return [line async for line in bounded_lines(Chunks(pieces), most)]  # type: ignore[arg-type]


async def test_lines_are_whole_whatever_the_pieces_and_a_long_one_is_dropped_unkept() -> None:
    pieces = [b'{"a"', b': 1}\n{"b": 2}\n{"c', b'": 3}\n', b"x" * 50, b"x" * 50 + b"\nok\n", b"cut"]
    assert await lines_of(pieces, 64) == [b'{"a": 1}', b'{"b": 2}', b'{"c": 3}', None, b"ok"]


def test_the_pause_before_following_again_grows_and_stays_bounded() -> None:
    pauses = [pause_after(failures, 1.0, 60.0) for failures in range(12)]
    assert 1.0 <= pauses[0] <= 2.0 and 2.0 <= pauses[1] <= 3.0
    assert all(pause <= 61.0 for pause in pauses) and pauses[-1] >= 60.0


async def test_what_the_database_cannot_store_is_taken_out_of_a_name_and_a_message(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        odd = Person("Am\x00ina\ud800", "33612345678@s.whatsapp.net\x00")
        said = bridge.say(odd, "/start\x00")
        await eventually(lambda: handled(coach, said))
        await drained(coach)
        assert bridge.posts()[0].text.startswith("Amina\ufffd: Hello! I am Coach.")

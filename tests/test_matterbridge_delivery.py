"""Posting to the bridge: what its answers mean to the sender, and what a post says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.matterbridge.delivery import GroupWindow
from bot.delivery.errors import Rejected, Transient
from bot.services.coach import utc_now
from bot.store.outbox import OutboundMessage
from bot.store.tables import OutboxRow
from tests.fakes.matterbridge_api import GATEWAY, TOKEN, fake_matterbridge
from tests.matterbridge_learner import coach_on_matterbridge, delivery


def outbound(number: int, text: str, **fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "id": 1_000_000 + number,
        "channel": "matterbridge",
        "chat_id": GATEWAY,
        "text": text,
        "buttons": (),
        "media": None,
        "tag": None,
        "language": "en",
        **fields,
    }
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def test_the_bridges_answers_are_retried_refused_or_waited_for(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        posting = delivery(coach)
        bridge.post_failures = [401, 502, 400]
        with pytest.raises(Transient):  # a wrong token: the operator fixes it, the post waits
            await posting.deliver(outbound(1, "Amina: hello"))
        with pytest.raises(Transient):
            await posting.deliver(outbound(2, "Amina: hello"))
        with pytest.raises(Rejected):
            await posting.deliver(outbound(3, "Amina: hello"))
        assert await posting.deliver(outbound(4, "Amina: hello")) == "mb:1000004"
        assert [(p.gateway, p.text, p.username) for p in bridge.posts()] == [
            (GATEWAY, "Amina: hello", "Coach")
        ]
        await bridge.go_away()
        with pytest.raises(Transient):
            await posting.deliver(outbound(6, "Bilal: hello"))


async def test_a_post_without_the_token_is_refused_by_the_bridge(
    database_url: str, engine: object
) -> None:
    async with (
        fake_matterbridge() as bridge,
        coach_on_matterbridge(
            database_url, bridge, greeted=False, matterbridge_token=TOKEN + "-wrong"
        ) as (coach, _),
    ):
        with pytest.raises(Transient):
            await delivery(coach).deliver(outbound(1, "Amina: hello"))
        assert bridge.posts() == [] and bridge.refused >= 1


class Posted:
    """The outbox's record of posts to a gateway, as the group window reads it."""

    def __init__(self, times: list[datetime]) -> None:
        self.times = times

    async def posted_since(self, channel: str, gateway: str, since: datetime) -> list[datetime]:
        return [time for time in self.times if time >= since]


async def test_a_group_at_its_limit_waits_until_its_oldest_post_of_the_minute_is_a_minute_old() -> (
    None
):
    now = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    minute = [now - timedelta(seconds=seconds) for seconds in (59, 30, 10)]
    window = GroupWindow(Posted(minute), 3, 60.0, lambda: now)  # type: ignore[arg-type]
    assert await window.wait(GATEWAY) == pytest.approx(60 * 1.03 - 59)
    window.limit = 4
    assert await window.wait(GATEWAY) == 0.0
    window.limit = 2
    assert await window.wait(GATEWAY) == pytest.approx(60 * 1.03 - 30)
    later = GroupWindow(Posted(minute), 3, 60.0, lambda: now + timedelta(seconds=3))  # type: ignore[arg-type]
    assert await later.wait(GATEWAY) == 0.0


def test_a_lesson_picture_or_sound_is_a_line_of_words_in_the_learners_language() -> None:
    from bot.channels.matterbridge.delivery import MatterbridgeDelivery
    from tests.conftest import ROOT
    from tests.telegram_learner import _shared_catalogs

    catalogs = _shared_catalogs(ROOT / "locales", ["en", "fr", "ar"], "en")
    words = MatterbridgeDelivery(None, None, catalogs, username="Coach", per_minute=20)  # type: ignore[arg-type]
    sound = {"kind": "audio", "path": "media/hello.ogg", "size": 10}
    said = words.text_of(outbound(1, "Listen.", media=sound))
    assert said == (
        "Listen.\n(A sound goes with this step; it is not sent in the group, to save data.)"
    )
    links = MatterbridgeDelivery(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        catalogs,
        username="Coach",
        per_minute=20,
        media_base="https://coach.example.org/curriculum",
    )
    assert links.text_of(outbound(1, "", media=sound)) == (
        "Sound: https://coach.example.org/curriculum/media/hello.ogg"
    )
    assert words.text_of(outbound(1, "Plain.")) == "Plain."


async def test_a_post_counts_in_the_groups_window_before_its_sent_mark_is_written(
    database_url: str, engine: object
) -> None:
    """The sender writes its "sent" marks a few milliseconds later, together: the window
    must see the post at once, or a second post could slip into the same minute; and the
    message is never posted twice."""
    async with coach_on_matterbridge(database_url, greeted=False) as (coach, bridge):
        posting = delivery(coach)
        posting.window.limit = 1
        async with coach.store.unit_of_work() as uow:
            row = OutboxRow(
                channel="matterbridge",
                chat_id=GATEWAY,
                text="Amina: hello",
                buttons=[],
                language="en",
                dedupe_key="window-test",
                status="sending",
                not_before=utc_now(),
                created_at=utc_now(),
            )
            uow.session.add(row)
        assert await posting.window.wait(GATEWAY) == 0.0

        post = await posting.deliver(outbound(0, "Amina: hello", id=row.id))

        assert await posting.window.wait(GATEWAY) > 0  # no mark written yet
        assert await posting.deliver(outbound(0, "Amina: hello", id=row.id)) == post
        assert [p.text for p in bridge.posts()] == ["Amina: hello"]

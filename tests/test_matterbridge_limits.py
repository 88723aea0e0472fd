"""A bridged group gets at most its limit of posts a minute (20 unless configured); replies to
several people waiting for the group's limit go out together in one post."""

from __future__ import annotations

from unittest.mock import patch

import pytest

from bot.app import build
from bot.core.channel import Buttons
from tests.conftest import settings_for
from tests.fakes.matterbridge_api import GATEWAY, Person, fake_matterbridge
from tests.matterbridge_learner import (
    GREETING,
    BridgedPerson,
    coach_on_matterbridge,
    delivery,
    everyone_says,
    follower,
    said_to,
)
from tests.telegram_learner import _shared_catalogs, drained, eventually

LANGUAGES = "Choose your language.\n\n1. English\n2. Français\n3. العربية"


def people(count: int) -> list[Person]:
    return [Person(f"Person{n:02d}", f"336000000{n:02d}@s.whatsapp.net") for n in range(count)]


async def test_the_group_never_gets_more_than_its_limit_and_everyone_is_answered_once(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        window = delivery(coach).window
        assert (window.limit, window.seconds) == (20, 60.0)
        # The same rule on a shorter clock and a lower limit, so that thirty people starting
        # at once would overrun it: 2 posts in any second.
        window.seconds, window.limit = 1.0, 2
        group = people(30)
        learners = [BridgedPerson(coach, bridge, person) for person in group]
        posts = await everyone_says([(learner, "/start") for learner in learners])
        names = tuple(person.name for person in group)
        for person in group:
            assert said_to(person.name, posts, names) == [f"{GREETING}\n\n{LANGUAGES}"]
        assert bridge.most_in_any(1.0) <= 2


async def test_replies_waiting_for_the_limit_go_out_together(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url, matterbridge_group_per_minute=1) as (
        coach,
        bridge,
    ):
        delivery(coach).window.seconds = 0.5
        group = people(4)
        learners = [BridgedPerson(coach, bridge, person) for person in group]
        posts = await everyone_says([(learner, "/start") for learner in learners])
        names = tuple(person.name for person in group)
        for person in group:
            assert said_to(person.name, posts, names) == [f"{GREETING}\n\n{LANGUAGES}"]
        assert len(posts) <= 3  # four people's greetings (eight messages) in fewer posts
        assert any(sum(f"{name}: " in post for name in names) >= 2 for post in posts)
        assert bridge.most_in_any(0.5) <= 1


async def test_the_group_limit_comes_from_the_settings(
    database_url: str,
    engine: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("COACH_MATTERBRIDGE_URL", "http://127.0.0.1:4242")
    monkeypatch.setenv("COACH_MATTERBRIDGE_GATEWAYS", '["wednesday-class", "french-class"]')
    monkeypatch.setenv("COACH_MATTERBRIDGE_GROUP_PER_MINUTE", "12")
    with patch("bot.app.Catalogs", _shared_catalogs):
        coach = build(settings_for(database_url))
    try:
        parts = coach.channels["matterbridge"]
        assert parts.capabilities.buttons is Buttons.NONE and parts.capabilities.groups
        assert delivery(coach).window.limit == 12
        assert delivery(coach).is_group("wednesday-class") is False  # counted by the window
    finally:
        await coach.store.close()
    assert "COACH_MATTERBRIDGE_HELP_LINK is not set" in caplog.text
    monkeypatch.delenv("COACH_MATTERBRIDGE_URL")
    with patch("bot.app.Catalogs", _shared_catalogs):
        coach = build(settings_for(database_url))
    try:
        assert "matterbridge" not in coach.channels
    finally:
        await coach.store.close()


async def test_the_groups_limit_holds_across_a_restart_and_for_every_coach_process(
    database_url: str, engine: object
) -> None:
    async with fake_matterbridge() as bridge:
        async with coach_on_matterbridge(database_url, bridge, matterbridge_group_per_minute=2) as (
            coach,
            _,
        ):
            for person in people(2):
                await BridgedPerson(coach, bridge, person).says("/start")
            assert len(bridge.posts()) == 2
        async with coach_on_matterbridge(database_url, bridge, matterbridge_group_per_minute=2) as (
            again,
            _,
        ):
            assert await delivery(again).window.wait(GATEWAY) > 55.0

            async def bridge_repeated_both() -> bool:
                return follower(again).handed >= 2

            await eventually(bridge_repeated_both)
            await drained(again)
            assert len(bridge.posts()) == 2  # what the bridge held again was not answered twice

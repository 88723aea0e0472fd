"""Following the bridge's stream: a lost connection or a bridge gone for a while loses and
repeats nothing; a message the bridge sends again is handled once."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest.mock import patch

from bot.core.events import Inbound
from bot.services.coach import Handled, Unavailable
from tests.fakes.matterbridge_api import Person, fake_matterbridge
from tests.matterbridge_learner import (
    BridgedPerson,
    coach_on_matterbridge,
    connected,
    follower,
    handled,
    handled_count,
    learner_row,
    number_for,
    said_to,
)
from tests.telegram_learner import drained, eventually

AMINA = Person("Amina", "33612345678@s.whatsapp.net")
BILAL = Person("Bilal", "33698765432@s.whatsapp.net")
NAMES = ("Amina", "Bilal")


async def in_the_quiz(amina: BridgedPerson) -> str:
    """Amina starts, chooses English, Basics, First steps and goes on to its quiz."""
    await amina.says("/start")
    await amina.says("1")
    await amina.says("1")
    await amina.says("1")
    said = await amina.says("1")
    assert said[0].startswith("Amina: Which is a colour?")
    return said[0]


async def test_a_stream_cut_mid_lesson_loses_and_repeats_nothing(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina, bilal = BridgedPerson(coach, bridge, AMINA), BridgedPerson(coach, bridge, BILAL)
        quiz = await in_the_quiz(amina)
        posted_before = len(bridge.posts())

        bridge.break_streams()
        answer = bridge.say(AMINA, number_for("Blue", quiz))  # while the coach is not listening
        hello = bridge.say(BILAL, "/start")
        await connected(coach, times=2)
        await eventually(lambda: handled(coach, answer))
        await eventually(lambda: handled(coach, hello))
        await drained(coach)

        posts = [post.text for post in bridge.posts()[posted_before:]]
        assert said_to("Amina", posts, NAMES)[0].startswith("Yes!\n\nWhich is an animal?")
        assert len(said_to("Amina", posts, NAMES)) == 1
        assert len(said_to("Bilal", posts, NAMES)) == 1
        assert await handled_count(coach) == 7  # every message once, the replayed ones too
        texts = [post.text for post in bridge.posts()]
        assert len(texts) == len(set(texts))  # no answer posted twice
        assert bridge.skip_before[0] is None and bridge.skip_before[1] is not None
        assert (await bilal.says("2"))[0].startswith("Bilal: Chaque leçon")


async def test_a_bridge_gone_for_a_while_is_followed_again_with_what_it_holds(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        quiz = await in_the_quiz(amina)
        posted_before = len(bridge.posts())
        await bridge.go_away()
        answer = bridge.say(AMINA, number_for("Blue", quiz))
        again = bridge.say(AMINA, "/progress")
        await bridge.come_back()
        await connected(coach, times=2)
        await eventually(lambda: handled(coach, again))
        await drained(coach)
        assert await handled(coach, answer)
        posts = [post.text for post in bridge.posts()[posted_before:]]
        said = said_to("Amina", posts, NAMES)
        assert said[0].startswith("Yes!\n\nWhich is an animal?")
        assert said[1].startswith("Lessons done: 0 of 2")
        assert len(said) == 2


async def test_a_message_the_bridge_sends_twice_is_answered_once(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        posted_before = len(bridge.posts())
        said = bridge.say(AMINA, "1")
        bridge.stream_line(json.dumps(said).encode() + b"\n")  # the same message, again
        await eventually(lambda: handled(coach, said))
        await drained(coach)
        follow = bridge.say(AMINA, "2")  # My progress: handled after both copies
        await eventually(lambda: handled(coach, follow))
        await drained(coach)
        posts = [post.text for post in bridge.posts()[posted_before:]]
        assert len(posts) == 2
        assert posts[0].startswith("Amina: Each lesson takes 1 to 3 minutes.")
        assert posts[1].startswith("Amina: Lessons done: 0 of 2")
        assert (await learner_row(coach, AMINA)).language == "en"


async def test_the_same_words_said_again_later_are_a_new_message(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        await amina.says("1")
        first = await amina.says("/progress")
        second = await amina.says("/progress")
        assert first == second and len(first) == 1


async def test_a_wrong_token_is_refused_and_the_coach_keeps_trying_without_a_storm(
    database_url: str, engine: object
) -> None:
    async with (
        fake_matterbridge(token="another-token") as bridge,
        coach_on_matterbridge(database_url, bridge, greeted=False) as (coach, _),
    ):
        started = asyncio.get_running_loop().time()

        async def refused_thrice() -> bool:
            return bridge.refused >= 3

        await eventually(refused_thrice)
        elapsed = asyncio.get_running_loop().time() - started
        assert follower(coach).connections == 0
        assert elapsed >= 0.05 + 0.1  # a pause after each refusal, growing


async def test_a_message_the_database_could_not_take_comes_again_from_the_buffer(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        handle = coach.service.handle
        refusals: list[str] = []

        async def database_away_once(event: Inbound, *args: Any, **kwargs: Any) -> Handled:
            if not refusals:
                refusals.append(event.key)
                raise Unavailable
            return await handle(event, *args, **kwargs)

        with patch.object(coach.service, "handle", database_away_once):
            said = bridge.say(AMINA, "1")
            await eventually(lambda: handled(coach, said))
            await drained(coach)
        assert follower(coach).connections == 2
        posts = [post.text for post in bridge.posts()]
        assert len(posts) == 2 and posts[1].startswith("Amina: Each lesson takes 1 to 3 minutes.")


async def test_a_message_refused_again_and_again_while_the_database_answers_is_given_up(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        stream = follower(coach)
        stream.most_tries = 3
        handle = coach.service.handle
        poison = bridge.say(AMINA, "1")

        async def refusing_one(event: Inbound, *args: Any, **kwargs: Any) -> Handled:
            if event.text == "1":
                raise Unavailable
            return await handle(event, *args, **kwargs)

        with patch.object(coach.service, "handle", refusing_one):
            later = bridge.say(AMINA, "/progress")
            await eventually(lambda: handled(coach, later))
            await drained(coach)
        assert not await handled(coach, poison)
        assert stream.connections == 3  # tried three times, then the group went on
        assert bridge.posts()[-1].text.startswith("Amina: ")


async def test_while_the_database_is_away_no_message_is_given_up(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina = BridgedPerson(coach, bridge, AMINA)
        await amina.says("/start")
        stream = follower(coach)
        stream.most_tries = 2
        handle = coach.service.handle
        away = True

        async def database_away(event: Inbound, *args: Any, **kwargs: Any) -> Handled:
            if away:
                raise Unavailable
            return await handle(event, *args, **kwargs)

        async def database_up() -> bool:
            return not away

        stream.database_up = database_up
        with patch.object(coach.service, "handle", database_away):
            said = bridge.say(AMINA, "1")

            async def tried_four_times() -> bool:
                return stream.connections >= 5

            await eventually(tried_four_times)
            away = False
            await eventually(lambda: handled(coach, said))
            await drained(coach)
        assert bridge.posts()[-1].text.startswith("Amina: Each lesson takes 1 to 3 minutes.")


async def test_a_stream_lost_after_the_bridge_greeted_it_is_followed_again_soon(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        stream = follower(coach)
        stream.first_pause, stream.longest_pause = 0.1, 5.0
        started = asyncio.get_running_loop().time()
        for times in range(2, 7):  # five losses in a row, each after a greeting
            bridge.break_streams()
            await connected(coach, times)
        # Growing pauses would take 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s; each is 0.2 to 0.3 s.
        assert asyncio.get_running_loop().time() - started < 3.0

"""/mydata and /forget on WhatsApp, in the learner's words and with typed numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.retention import Retention
from tests.fakes import whatsapp_webhooks as hook
from tests.fakes.matterbridge_api import FakeMatterbridge, Person
from tests.matterbridge_learner import (
    BridgedPerson,
    coach_on_matterbridge,
    learner_row,
    number_for,
    said_to,
)
from tests.telegram_learner import drained, eventually
from tests.test_forget import scan_tables
from tests.whatsapp_learner import WhatsAppLearner, coach_on_whatsapp

SAFIA = "33699887766"
AMINA = Person("Amina", "33612345678@s.whatsapp.net")
BILAL = Person("Bilal", "33698765432@s.whatsapp.net")
NAMES = ("Amina", "Bilal")


async def test_on_whatsapp_mydata_then_forget_me_and_1_erase_everything(
    database_url: str, engine: object
) -> None:
    async with coach_on_whatsapp(database_url) as (coach, graph):
        learner = WhatsAppLearner(coach, graph, SAFIA, "Safia")
        await learner.says("hello")
        said = await learner.taps("English")
        assert "/forget erases it all" in said[0]
        said = await learner.says("/mydata")
        assert said[0].startswith("What I keep about you:\n\nLessons done: 0 of 2")
        assert "First name: Safia" in said[0]
        said = await learner.says("Forget me")
        assert said[0].endswith("1. Yes, erase everything\n2. No, keep it")

        before = len(graph.to(SAFIA))
        assert await graph.post_webhook(hook.text(SAFIA, "Safia", "1")) == 200
        await drained(coach)
        told = [m.body or "" for m in graph.to(SAFIA)[before:]]
        assert told == [
            "Done. I erased everything I kept about you. If you write again, we start from zero."
        ]
        await Retention(coach.store).sweep(datetime.now(UTC))
        assert await scan_tables(coach, [SAFIA, "Safia"]) == []


async def test_in_a_bridged_group_one_person_erases_themselves_and_the_other_stays(
    database_url: str, engine: object
) -> None:
    async with coach_on_matterbridge(database_url) as (coach, bridge):
        amina, bilal = BridgedPerson(coach, bridge, AMINA), BridgedPerson(coach, bridge, BILAL)
        for person in (amina, bilal):
            await person.says("/start")
            await person.says("1")  # English
        said = await amina.says("/forget")
        question = said_to("Amina", said, NAMES)[0]
        assert question.startswith("Do you want me to erase everything")
        assert await bilal.says(number_for("Yes, erase everything", question)) != []  # not his

        before = len(bridge.posts())
        bridge.say(AMINA, number_for("Yes, erase everything", question))
        await eventually(lambda: _posted(bridge, before, "Amina: Done. I erased everything"))
        await drained(coach)
        await Retention(coach.store).sweep(datetime.now(UTC))
        assert await scan_tables(coach, [AMINA.userid, "Amina"]) == []
        assert (await learner_row(coach, BILAL)).language == "en"


async def _posted(bridge: FakeMatterbridge, before: int, words: str) -> bool:
    return any(words in post.text for post in bridge.posts()[before:])
